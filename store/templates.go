package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Template is a stored message template, a row of the templates table
// (modelled on Mega-Wechat's mega_wechat_template). The store keeps Body
// as opaque bytes; package template gives them meaning.
type Template struct {
	Key   string
	Title string
	// Kind is the endpoint the body is for: "template" (the default, also
	// for ""), "custom" or "subscribe". Package template gives it meaning.
	Kind      string
	Body      []byte // the template JSON, byte for byte as saved
	CreatedAt time.Time
	UpdatedAt time.Time
}

// PutTemplate saves t under t.Key, creating it or replacing its title,
// kind and body. A replaced template keeps its created_at; updated_at is now. It
// returns an error for an empty key or body.
func (d *DB) PutTemplate(ctx context.Context, t Template) error {
	_, err := d.SaveTemplate(ctx, t)
	return err
}

// SaveTemplate is PutTemplate that also reports whether t was created
// rather than replaced, decided in the same transaction as the write, so
// that two callers saving one new key are told "created" once.
func (d *DB) SaveTemplate(ctx context.Context, t Template) (created bool, err error) {
	if t.Key == "" {
		return false, errors.New("put template: empty key")
	}
	if len(t.Body) == 0 {
		return false, fmt.Errorf("put template %s: empty body", t.Key)
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("put template %s: %w", t.Key, err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM templates WHERE tmpl_key = ?`, t.Key).Scan(&n); err != nil {
		return false, fmt.Errorf("put template %s: %w", t.Key, err)
	}
	kind := t.Kind
	if kind == "" {
		kind = KindTemplate
	}
	now := d.nowMS()
	// The body is bound as a string so SQLite stores TEXT, as the schema
	// says, and the sqlite3 shell shows it readably.
	_, err = tx.ExecContext(ctx, `
		INSERT INTO templates (tmpl_key, title, kind, body, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (tmpl_key) DO UPDATE SET title = excluded.title, kind = excluded.kind, body = excluded.body,
			updated_at = excluded.updated_at`,
		t.Key, t.Title, kind, string(t.Body), now, now)
	if err != nil {
		return false, fmt.Errorf("put template %s: %w", t.Key, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("put template %s: %w", t.Key, err)
	}
	return n == 0, nil
}

const templateColumns = `tmpl_key, title, kind, body, created_at, updated_at`

func scanTemplate(row interface{ Scan(...any) error }) (Template, error) {
	var (
		t                Template
		body             string
		created, updated int64
	)
	if err := row.Scan(&t.Key, &t.Title, &t.Kind, &body, &created, &updated); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Template{}, ErrNotFound
		}
		return Template{}, err
	}
	t.Body = []byte(body)
	t.CreatedAt = time.UnixMilli(created)
	t.UpdatedAt = time.UnixMilli(updated)
	return t, nil
}

// Template returns the template stored under key. It returns an error
// wrapping ErrNotFound if there is none.
func (d *DB) Template(ctx context.Context, key string) (Template, error) {
	t, err := scanTemplate(d.queryRow(ctx, `SELECT `+templateColumns+` FROM templates WHERE tmpl_key = ?`, key))
	if err != nil {
		return Template{}, fmt.Errorf("get template %s: %w", key, err)
	}
	return t, nil
}

// Templates returns every stored template, sorted by key.
func (d *DB) Templates(ctx context.Context) ([]Template, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+templateColumns+` FROM templates ORDER BY tmpl_key`)
	if err != nil {
		return nil, fmt.Errorf("list templates: %w", err)
	}
	defer rows.Close()
	var out []Template
	for rows.Next() {
		t, err := scanTemplate(rows)
		if err != nil {
			return nil, fmt.Errorf("list templates: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list templates: %w", err)
	}
	return out, nil
}

// DeleteTemplates removes the templates stored under keys, all of them or,
// if some are not there, none: it then returns those keys, in the order
// given, and an error wrapping ErrNotFound. A mistyped key in a list must
// not leave the rest half removed. Batches keep their own snapshot of the
// body, so deleting a template never breaks a resume.
func (d *DB) DeleteTemplates(ctx context.Context, keys []string) (missing []string, err error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("delete templates: %w", err)
	}
	defer tx.Rollback()
	for i, key := range keys {
		res, err := tx.ExecContext(ctx, `DELETE FROM templates WHERE tmpl_key = ?`, key)
		if err != nil {
			return nil, fmt.Errorf("delete template %s: %w", key, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, fmt.Errorf("delete template %s: %w", key, err)
		} else if n == 0 && !slices.Contains(keys[:i], key) { // a key given twice is not missing
			missing = append(missing, key)
		}
	}
	if len(missing) > 0 {
		return missing, fmt.Errorf("delete templates %s: %w", strings.Join(missing, ", "), ErrNotFound)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("delete templates: %w", err)
	}
	return nil, nil
}
