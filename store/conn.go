package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
)

// pragma is an integer setting of one connection.
type pragma struct {
	name  string
	value int
}

// setPragmas applies settings to conn, a connection taken out of the pool
// for one job, and returns what sets them back. If that fails the
// connection is discarded, so that the pool never hands it out changed.
func setPragmas(ctx context.Context, conn *sql.Conn, settings ...pragma) (restore func(), err error) {
	var old []pragma
	restore = func() {
		for _, p := range old {
			if _, err := conn.ExecContext(context.Background(), fmt.Sprintf("PRAGMA %s = %d", p.name, p.value)); err != nil {
				conn.Raw(func(any) error { return driver.ErrBadConn })
				return
			}
		}
	}
	for _, p := range settings {
		was := pragma{name: p.name}
		if err := conn.QueryRowContext(ctx, "PRAGMA "+p.name).Scan(&was.value); err != nil {
			restore()
			return nil, err
		}
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA %s = %d", p.name, p.value)); err != nil {
			restore()
			return nil, err
		}
		old = append(old, was)
	}
	return restore, nil
}
