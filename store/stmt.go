package store

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps the prepared statements of the queries a service runs
// on every request (an API key, a template): parsing their SQL again each
// time cost as much as running them. database/sql prepares a *sql.Stmt
// once per pooled connection and keeps it.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// queryRow runs query, a statement worth keeping prepared, for one row.
func (d *DB) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := d.prepared(ctx, query)
	if err != nil {
		return d.db.QueryRowContext(ctx, query, args...) // and its error
	}
	return st.QueryRowContext(ctx, args...)
}

// prepared returns query prepared, once: tx.StmtContext runs it inside a
// transaction.
func (d *DB) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	d.stmts.mu.Lock()
	defer d.stmts.mu.Unlock()
	if st, ok := d.stmts.m[query]; ok {
		return st, nil
	}
	st, err := d.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if d.stmts.m == nil {
		d.stmts.m = map[string]*sql.Stmt{}
	}
	d.stmts.m[query] = st
	return st, nil
}

// close closes the statements kept.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
}
