package store

// API keys for `megasend serve`. The store keeps a name, the account the
// key acts for and an opaque hash; what a key looks like and how it is
// hashed belong to package apikey. The key itself never reaches the
// database.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// lastUsedResolution is how stale an API key's last_used_at may get before
// APIKeyByHash writes it again. Every API request looks its key up; writing
// the time on each would make every request, reads included, queue for
// the database's one write lock behind the ledger's commits and an import's
// transactions. Once a minute per key keeps that cost out of the request
// path, and a minute is fine enough to see which keys are still in use.
const lastUsedResolution = time.Minute

// APIKey is a stored API key as far as anyone may see it: never the key,
// never its hash.
type APIKey struct {
	Name    string
	Account string
	// CreatedAt is when the key was added.
	CreatedAt time.Time
	// LastUsedAt is when the key last authenticated a request, to within
	// a minute; zero if it never did.
	LastUsedAt time.Time
}

// AddAPIKey stores the key hashed to hash under name, acting for account.
// It returns an error wrapping ErrExists if name is taken, and an error
// for an empty name, account or hash. The hash is opaque here; two keys
// with the same hash are refused (they would be the same key).
func (d *DB) AddAPIKey(ctx context.Context, name, account string, hash []byte) error {
	switch {
	case name == "":
		return errors.New("add api key: empty name")
	case account == "":
		return fmt.Errorf("add api key %s: empty account", name)
	case len(hash) == 0:
		return fmt.Errorf("add api key %s: empty hash", name)
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("add api key %s: %w", name, err)
	}
	defer tx.Rollback()
	// Checked in the transaction rather than read from a constraint error,
	// whose text is the driver's: the name and the hash are both unique.
	var taken int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM api_keys WHERE name = ?`, name).Scan(&taken); err != nil {
		return fmt.Errorf("add api key %s: %w", name, err)
	}
	if taken > 0 {
		return fmt.Errorf("api key %s: %w", name, ErrExists)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO api_keys (name, account, key_hash, created_at) VALUES (?, ?, ?, ?)`,
		name, account, hash, d.nowMS()); err != nil {
		return fmt.Errorf("add api key %s: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("add api key %s: %w", name, err)
	}
	return nil
}

const apiKeyColumns = `name, account, created_at, last_used_at`

func scanAPIKey(row interface{ Scan(...any) error }) (APIKey, error) {
	var (
		k        APIKey
		created  int64
		lastUsed sql.NullInt64
	)
	if err := row.Scan(&k.Name, &k.Account, &created, &lastUsed); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return APIKey{}, ErrNotFound
		}
		return APIKey{}, err
	}
	k.CreatedAt = time.UnixMilli(created)
	k.LastUsedAt = msTime(lastUsed)
	return k, nil
}

// APIKeys returns every stored API key, sorted by name.
func (d *DB) APIKeys(ctx context.Context) ([]APIKey, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	defer rows.Close()
	var out []APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list api keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	return out, nil
}

// RemoveAPIKey deletes the API key called name; requests made with it are
// refused from then on. It returns an error wrapping ErrNotFound if there
// is no such key.
func (d *DB) RemoveAPIKey(ctx context.Context, name string) error {
	res, err := d.db.ExecContext(ctx, `DELETE FROM api_keys WHERE name = ?`, name)
	if err != nil {
		return fmt.Errorf("remove api key %s: %w", name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("remove api key %s: %w", name, err)
	}
	if n == 0 {
		return fmt.Errorf("api key %s: %w", name, ErrNotFound)
	}
	return nil
}

// APIKeyByHash returns the API key whose hash is hash, and records that it
// was used now, unless it was already recorded less than a minute ago (see
// lastUsedResolution): most calls only read. It returns an error wrapping
// ErrNotFound if no key has that hash.
//
// The lookup compares hashes, never keys, so the time it takes says
// nothing about a stored key that a caller could use to guess one.
func (d *DB) APIKeyByHash(ctx context.Context, hash []byte) (APIKey, error) {
	k, err := scanAPIKey(d.queryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE key_hash = ?`, hash))
	if err != nil {
		return APIKey{}, fmt.Errorf("find api key: %w", err)
	}
	now := d.Now()
	if !k.LastUsedAt.IsZero() && now.Sub(k.LastUsedAt) < lastUsedResolution {
		return k, nil
	}
	// Requests that read the stale time at once each write it: a few
	// writes a minute at most, and the time they write is the same.
	_, err = d.db.ExecContext(ctx, `UPDATE api_keys SET last_used_at = ? WHERE key_hash = ?`, now.UnixMilli(), hash)
	if err != nil {
		return APIKey{}, fmt.Errorf("record api key %s used: %w", k.Name, err)
	}
	k.LastUsedAt = time.UnixMilli(now.UnixMilli())
	return k, nil
}
