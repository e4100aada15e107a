package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/megasend/megasend/store"
)

// dbPath resolves the database file: --db or MEGASEND_DB, then the
// configuration's db, then megasend.db in the user's data directory.
func (a *app) resolveDBPath(cfgDB string) (string, error) {
	if a.dbPath != "" {
		return expandHome(a.dbPath, a.streams.getenv("HOME")), nil
	}
	if cfgDB != "" {
		return expandHome(cfgDB, a.streams.getenv("HOME")), nil
	}
	dir := a.streams.getenv("XDG_DATA_HOME")
	if dir == "" {
		home := a.streams.getenv("HOME")
		if home == "" {
			return "", usageErrorf("no database: pass --%s FILE or set %s", flgDB, envDB)
		}
		dir = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(dir, "megasend", "megasend.db"), nil
}

// openStore opens the database, creating its directory if needed.
func (a *app) openStore(ctx context.Context) (*store.DB, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	path, err := a.resolveDBPath(cfg.DB)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return store.Open(ctx, path)
}

// expandHome turns a leading ~/ into the home directory.
func expandHome(path, home string) string {
	if home != "" && (path == "~" || len(path) > 1 && path[:2] == "~/") {
		return filepath.Join(home, path[1:])
	}
	return path
}

// findBatch reads a batch by name; a missing one is a usage error.
func findBatch(ctx context.Context, db *store.DB, name string) (store.Batch, error) {
	b, err := db.Batch(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return store.Batch{}, usageErrorf("no batch %q; see 'megasend batches'", name)
	}
	return b, err
}

// openBatch opens the store and finds the batch called name; the caller
// closes the store. A missing batch is a usage error.
func (a *app) openBatch(ctx context.Context, name string) (*store.DB, store.Batch, error) {
	db, err := a.openStore(ctx)
	if err != nil {
		return nil, store.Batch{}, err
	}
	b, err := findBatch(ctx, db, name)
	if err != nil {
		db.Close()
		return nil, store.Batch{}, err
	}
	return db, b, nil
}
