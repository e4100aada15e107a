package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// LoadToken returns the sealed access token cached under key, or nil if
// there is none or it has expired. It implements wechat.TokenCache.
func (d *DB) LoadToken(ctx context.Context, key string) ([]byte, error) {
	var sealed []byte
	err := d.db.QueryRowContext(ctx, `SELECT sealed FROM tokens WHERE cache_key = ? AND expires_at > ?`,
		key, d.nowMS()).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load token: %w", err)
	}
	return sealed, nil
}

// StoreToken caches a sealed access token under key. It implements
// wechat.TokenCache.
func (d *DB) StoreToken(ctx context.Context, key string, sealed []byte, expiresAt time.Time) error {
	_, err := d.db.ExecContext(ctx, `INSERT INTO tokens (cache_key, sealed, expires_at, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (cache_key) DO UPDATE SET sealed = excluded.sealed, expires_at = excluded.expires_at,
		updated_at = excluded.updated_at`, key, sealed, expiresAt.UnixMilli(), d.nowMS())
	if err != nil {
		return fmt.Errorf("store token: %w", err)
	}
	return nil
}
