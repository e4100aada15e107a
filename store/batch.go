package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Batch status values.
const (
	StatusImporting = "importing" // recipients are being streamed in
	StatusReady     = "ready"     // imported, nothing sent yet
	StatusRunning   = "running"   // a process is (or was, until it died) sending
	StatusPaused    = "paused"    // stopped before the end; PauseReason says why
	StatusDone      = "done"      // no pending recipients left
)

// Recipient states: the lifecycle of PRODUCT.md.
const (
	StatePending  = "pending"
	StateInflight = "inflight"
	StateSent     = "sent"
	StateFailed   = "failed"
	StateUnknown  = "unknown"
	StateSkipped  = "skipped"
)

// Batch is one campaign: a template snapshot sent to one recipient file.
type Batch struct {
	ID           int64
	Name         string
	Nonce        string // prefixes the batch's client_msg_ids
	TemplateRef  string // the key or path the user gave
	TemplateBody []byte // the snapshot the whole batch is sent with
	TemplateHash string
	// TemplateKind is the snapshot's kind: "template", "custom" or
	// "subscribe".
	TemplateKind string
	// FallbackRef and FallbackBody are campaign --fallback's template, a
	// template-kind message for the recipients a customer-service message
	// cannot reach; both "" when the batch has none.
	FallbackRef  string
	FallbackBody []byte
	SourcePath   string
	SourceHash   string
	Account      string
	Status       string
	PauseReason  string
	Total        int64
	CreatedAt    time.Time
	UpdatedAt    time.Time
	FinishedAt   time.Time // zero until done
	LockOwner    string    // "pid@host" of the process working on it, or ""
	LockSince    time.Time
	LockBeat     time.Time
}

// Recipient is one row of a batch.
type Recipient struct {
	BatchID     int64
	Line        int64
	OpenID      string
	Vars        string // JSON object of the row's variables, in input order
	State       string
	Attempts    int
	Errcode     int // meaningful for failed and unknown rows
	Errmsg      string
	MsgID       int64
	ClientMsgID string
	// Kind is the kind the recipient is sent with: "" for the batch's own
	// (Pending), or the fallback's once it moved to it. Recipients gives
	// every row's kind.
	Kind           string
	FirstAttemptAt time.Time
	LastAttemptAt  time.Time
	DoneAt         time.Time
}

const batchColumns = `id, name, nonce, template_ref, template_body, template_hash, source_path, source_hash,
	account, status, pause_reason, total, created_at, updated_at, finished_at, lock_owner, lock_since, lock_beat,
	template_kind, fallback_ref, fallback_body`

func scanBatch(row interface{ Scan(...any) error }) (Batch, error) {
	var (
		b                         Batch
		body, fallback            string
		created, updated          int64
		finished, since, lockBeat sql.NullInt64
	)
	err := row.Scan(&b.ID, &b.Name, &b.Nonce, &b.TemplateRef, &body, &b.TemplateHash, &b.SourcePath, &b.SourceHash,
		&b.Account, &b.Status, &b.PauseReason, &b.Total, &created, &updated, &finished, &b.LockOwner, &since, &lockBeat,
		&b.TemplateKind, &b.FallbackRef, &fallback)
	if errors.Is(err, sql.ErrNoRows) {
		return Batch{}, ErrNotFound
	}
	if err != nil {
		return Batch{}, err
	}
	b.TemplateBody = []byte(body)
	if fallback != "" {
		b.FallbackBody = []byte(fallback)
	}
	b.CreatedAt = time.UnixMilli(created)
	b.UpdatedAt = time.UnixMilli(updated)
	b.FinishedAt = msTime(finished)
	b.LockSince = msTime(since)
	b.LockBeat = msTime(lockBeat)
	return b, nil
}

// Batch returns the batch called name, or ErrNotFound.
func (d *DB) Batch(ctx context.Context, name string) (Batch, error) {
	b, err := scanBatch(d.db.QueryRowContext(ctx, `SELECT `+batchColumns+` FROM batches WHERE name = ?`, name))
	if err != nil {
		return Batch{}, fmt.Errorf("batch %s: %w", name, err)
	}
	return b, nil
}

// Batches returns every batch, newest first.
func (d *DB) Batches(ctx context.Context) ([]Batch, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+batchColumns+` FROM batches ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list batches: %w", err)
	}
	defer rows.Close()
	var out []Batch
	for rows.Next() {
		b, err := scanBatch(rows)
		if err != nil {
			return nil, fmt.Errorf("list batches: %w", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}
