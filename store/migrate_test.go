package store

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A database written before migration 0003 (states in the recipients rows,
// sends in progress in the inflight table) reads the same afterwards:
// every row of the recipients_now view, the counts, the pending lines, and
// a frontier before the first line never tried.
func TestMigrate_Sends(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	mustExec := func(q string, args ...any) {
		t.Helper()
		if _, err := old.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	mustExec(`CREATE TABLE migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`)
	for _, name := range []string{"migrations/0001_init.sql", "migrations/0002_inflight.sql"} {
		body, err := fs.ReadFile(migrations, name)
		if err != nil {
			t.Fatal(err)
		}
		mustExec(string(body))
		mustExec(`INSERT INTO migrations (name, applied_at) VALUES (?, 1)`, name)
	}
	mustExec(`INSERT INTO batches (id, name, nonce, template_ref, template_body, template_hash, source_path, source_hash,
		status, total, created_at, updated_at) VALUES (1, 'b', 'n', 't', '{}', 'h', 'u.csv', 'h', 'paused', 9, 1, 1)`)
	// line: state, attempts, errcode, errmsg, msgid, first, last, done
	rows := map[int]string{
		2:  `'sent', 1, NULL, NULL, 1002, 100, 100, 101`,
		3:  `'failed', 2, 43004, 'require subscribe', NULL, 100, 110, 111`,
		4:  `'pending', 0, NULL, NULL, NULL, NULL, NULL, NULL`,
		5:  `'skipped', 0, NULL, 'duplicate openid (first on line 2)', NULL, NULL, NULL, NULL`,
		6:  `'unknown', 3, -1, 'may have been delivered', NULL, 90, 120, 121`,
		7:  `'pending', 1, 45009, 'quota', NULL, NULL, 130, NULL`,
		8:  `'pending', 0, NULL, NULL, NULL, NULL, NULL, NULL`,
		9:  `'inflight', 1, NULL, NULL, NULL, 140, 140, NULL`,
		10: `'pending', 0, NULL, NULL, NULL, NULL, NULL, NULL`,
	}
	for line, v := range rows {
		mustExec(fmt.Sprintf(`INSERT INTO recipients (batch_id, line, openid, vars, client_msg_id, state, attempts, errcode,
			errmsg, msgid, first_attempt_at, last_attempt_at, done_at) VALUES (1, %d, 'o%d', '{"n":"%d"}', 'ms-n-%d', %s)`,
			line, line, line, line, v))
	}
	// Line 8 was in flight when its run died.
	mustExec(`INSERT INTO inflight (batch_id, line, attempts, first_at, last_at) VALUES (1, 8, 1, 150, 150)`)
	before := view(t, old)
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if after := view(t, db.db); after != before {
		t.Errorf("recipients_now changed:\nbefore\n%s\nafter\n%s", before, after)
	}
	c, err := db.Counts(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Counts{Sent: 1, Failed: 1, Pending: 3, Skipped: 1, Unknown: 1, Inflight: 2}); c != want {
		t.Errorf("counts %+v, want %+v", c, want)
	}
	if got := fmt.Sprint(allPending(t, db, 1)); got != "[4 7 10]" {
		t.Errorf("pending %s, want [4 7 10]", got)
	}
	var frontier int64
	if err := db.db.QueryRow(`SELECT frontier FROM batches WHERE id = 1`).Scan(&frontier); err != nil {
		t.Fatal(err)
	}
	if frontier != 3 {
		t.Errorf("frontier %d, want 3 (line 4 never tried)", frontier)
	}
}

// view renders the recipients_now view, one line per row.
func view(t *testing.T, db interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}) string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT batch_id, line, openid, vars, state, attempts, errcode, errmsg, msgid,
		client_msg_id, first_attempt_at, last_attempt_at, done_at FROM recipients_now ORDER BY batch_id, line`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		v := make([]any, 13)
		p := make([]any, len(v))
		for i := range v {
			p[i] = &v[i]
		}
		if err := rows.Scan(p...); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(&b, v...)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// A database written before migration 0005 gains the API key and receipt
// tables and reads as before: the batch, its counts and its rows are the
// same, and a reopen applies nothing twice.
func TestMigrate_Service(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	mustExec := func(q string, args ...any) {
		t.Helper()
		if _, err := old.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	mustExec(`CREATE TABLE migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`)
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if name >= "migrations/0005" {
			break
		}
		body, err := fs.ReadFile(migrations, name)
		if err != nil {
			t.Fatal(err)
		}
		mustExec(string(body))
		mustExec(`INSERT INTO migrations (name, applied_at) VALUES (?, 1)`, name)
	}
	mustExec(`INSERT INTO batches (id, name, nonce, template_ref, template_body, template_hash, source_path, source_hash,
		account, status, total, created_at, updated_at) VALUES (1, 'b', 'n', 't', '{}', 'h', 'u.csv', 'h', 'main', 'paused', 3, 1, 1)`)
	for line := 2; line <= 4; line++ {
		mustExec(`INSERT INTO recipients (batch_id, line, openid, vars, client_msg_id) VALUES (1, ?, ?, '{}', ?)`,
			line, fmt.Sprintf("o%d", line), fmt.Sprintf("ms-n-%d", line))
	}
	mustExec(`INSERT INTO sends (batch_id, line, state, attempts, msgid, done_at) VALUES (1, 2, 'sent', 1, 1002, 5000), (1, 3, 'failed', 1, NULL, 5000)`)
	before := view(t, old)
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	for range 2 {
		db, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if after := view(t, db.db); after != before {
			t.Errorf("recipients_now changed:\nbefore\n%s\nafter\n%s", before, after)
		}
		if c, err := db.Counts(ctx, 1); err != nil || c != (Counts{Sent: 1, Failed: 1, Pending: 1}) {
			t.Errorf("Counts() = %+v, %v", c, err)
		}
		if _, err := db.RecordReceipt(ctx, "main", 1002, ReceiptSuccess, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if rc, err := db.ReceiptCounts(ctx, 1); err != nil || rc != (ReceiptCounts{Success: 1}) {
			t.Errorf("ReceiptCounts() = %+v, %v", rc, err)
		}
		// 0013 gave the sent row its openid: the caps count it.
		if d, err := db.DeliveredTo(ctx, "main", "o2", time.UnixMilli(5000)); err != nil || len(d) != 1 {
			t.Errorf("DeliveredTo() = %v, %v, want the sent row", d, err)
		}
		if d, err := db.DeliveredTo(ctx, "main", "o3", time.UnixMilli(0)); err != nil || len(d) != 0 {
			t.Errorf("DeliveredTo() = %v, %v, want nothing for a failure", d, err)
		}
		if keys, err := db.APIKeys(ctx); err != nil || len(keys) != 0 {
			t.Errorf("APIKeys() = %+v, %v, want none", keys, err)
		}
		var n int
		if err := db.db.QueryRow(`SELECT COUNT(*) FROM migrations WHERE name = 'migrations/0005_service.sql'`).Scan(&n); err != nil || n != 1 {
			t.Errorf("0005 recorded %d times (%v), want once", n, err)
		}
		db.Close()
	}
}
