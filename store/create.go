package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
)

// ErrExists is returned by CreateBatch when the name is taken.
var ErrExists = errors.New("already exists")

// NewBatch describes a batch to create.
type NewBatch struct {
	Name         string
	TemplateRef  string
	TemplateBody []byte
	TemplateHash string
	TemplateKind string // "" is "template"
	FallbackRef  string
	FallbackBody []byte
	SourcePath   string
	SourceHash   string
	Account      string
}

// CreateBatch creates a batch in status importing, locked by owner, in one
// transaction, so two processes racing to create the same batch cannot both
// import it. Returns ErrExists (wrapped) if the name is taken.
func (d *DB) CreateBatch(ctx context.Context, nb NewBatch, owner string) (Batch, error) {
	nonce := make([]byte, 6)
	if _, err := rand.Read(nonce); err != nil {
		return Batch{}, fmt.Errorf("create batch: %w", err)
	}
	now := d.nowMS()
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return Batch{}, fmt.Errorf("create batch %s: %w", nb.Name, err)
	}
	defer tx.Rollback()
	var exists int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM batches WHERE name = ?`, nb.Name).Scan(&exists); err != nil {
		return Batch{}, fmt.Errorf("create batch %s: %w", nb.Name, err)
	}
	if exists > 0 {
		return Batch{}, fmt.Errorf("batch %s: %w", nb.Name, ErrExists)
	}
	kind := nb.TemplateKind
	if kind == "" {
		kind = KindTemplate
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO batches (name, nonce, template_ref, template_body, template_hash,
		source_path, source_hash, account, status, created_at, updated_at, lock_owner, lock_since, lock_beat,
		template_kind, fallback_ref, fallback_body)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		nb.Name, hex.EncodeToString(nonce), nb.TemplateRef, string(nb.TemplateBody), nb.TemplateHash,
		nb.SourcePath, nb.SourceHash, nb.Account, StatusImporting, now, now, owner, now, now,
		kind, nb.FallbackRef, string(nb.FallbackBody))
	if err != nil {
		return Batch{}, fmt.Errorf("create batch %s: %w", nb.Name, err)
	}
	b, err := scanBatch(tx.QueryRowContext(ctx, `SELECT `+batchColumns+` FROM batches WHERE name = ?`, nb.Name))
	if err != nil {
		return Batch{}, fmt.Errorf("create batch %s: %w", nb.Name, err)
	}
	return b, tx.Commit()
}

// SetStatus sets a batch's status and pause reason. Done also stamps
// finished_at.
func (d *DB) SetStatus(ctx context.Context, batchID int64, status, reason string) error {
	now := d.nowMS()
	var finished sql.NullInt64
	if status == StatusDone {
		finished = sql.NullInt64{Int64: now, Valid: true}
	}
	_, err := d.db.ExecContext(ctx, `UPDATE batches SET status = ?, pause_reason = ?, updated_at = ?,
		finished_at = COALESCE(?, finished_at) WHERE id = ?`, status, reason, now, finished, batchID)
	if err != nil {
		return fmt.Errorf("set batch status: %w", err)
	}
	return nil
}

// DeleteBatch removes a batch and its recipients: used only when an import
// is rejected for bad input, so that nothing of it remains.
func (d *DB) DeleteBatch(ctx context.Context, batchID int64) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete batch: %w", err)
	}
	defer tx.Rollback()
	if err := deleteBatch(ctx, tx, batchID); err != nil {
		return fmt.Errorf("delete batch: %w", err)
	}
	return tx.Commit()
}

// SetTemplate replaces the template snapshot a batch sends its remaining
// recipients with: how a batch stopped by a wrong template_id is finished
// once the template is fixed. The caller checks that every recipient still
// to be sent renders with it.
func (d *DB) SetTemplate(ctx context.Context, batchID int64, ref string, body []byte, hash string) error {
	_, err := d.db.ExecContext(ctx, `UPDATE batches SET template_ref = ?, template_body = ?, template_hash = ?, updated_at = ?
		WHERE id = ?`, ref, string(body), hash, d.nowMS(), batchID)
	if err != nil {
		return fmt.Errorf("set batch template: %w", err)
	}
	return nil
}
