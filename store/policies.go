package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// BatchPolicy is what a batch was asked to observe beyond its account's
// configuration.
type BatchPolicy struct {
	// QuietHours is "HH:MM-HH:MM ZONE", "off", or "" (the account's).
	QuietHours string
	// Cap is "N/DURATION" (a frequency cap), "off", or "" (the account's).
	Cap string
}

// SetBatchPolicy keeps p for batch batchID, replacing what it had.
func (d *DB) SetBatchPolicy(ctx context.Context, batchID int64, p BatchPolicy) error {
	_, err := d.db.ExecContext(ctx, `INSERT INTO batch_policies (batch_id, quiet_hours, cap) VALUES (?, ?, ?)
		ON CONFLICT (batch_id) DO UPDATE SET quiet_hours = excluded.quiet_hours, cap = excluded.cap`, batchID, p.QuietHours, p.Cap)
	if err != nil {
		return fmt.Errorf("set batch policy: %w", err)
	}
	return nil
}

// BatchPolicyOf returns what batch batchID was asked to observe; the zero
// BatchPolicy if nothing.
func (d *DB) BatchPolicyOf(ctx context.Context, batchID int64) (BatchPolicy, error) {
	var p BatchPolicy
	err := d.db.QueryRowContext(ctx, `SELECT quiet_hours, cap FROM batch_policies WHERE batch_id = ?`, batchID).Scan(&p.QuietHours, &p.Cap)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return BatchPolicy{}, fmt.Errorf("batch policy: %w", err)
	}
	return p, nil
}
