package cmd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/megasend/megasend/campaign"
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

// openStore opens the database, creating it and its directory if needed.
func (a *app) openStore(ctx context.Context) (*store.DB, error) {
	path, err := a.storePath()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return openStorePath(ctx, path)
}

// openStorePath opens the database at path; a directory is a usage error.
func openStorePath(ctx context.Context, path string) (*store.DB, error) {
	db, err := store.Open(ctx, path)
	if errors.Is(err, store.ErrIsDirectory) {
		return nil, dbIsDirectory(path)
	}
	return db, err
}

// dbIsDirectory is the usage error of a database path that names a
// directory, which SQLite reports as "unable to open database file (14)".
func dbIsDirectory(path string) error {
	return usageErrorf("the database %s is a directory; name a file for --%s (or %s, or db in the configuration), such as %s",
		path, flgDB, envDB, filepath.Join(path, "megasend.db"))
}

// noStoreError says the database a reading command was pointed at does not
// exist. Commands that only read do not create one: a mistyped --db must
// not leave an empty database behind and report that it is empty.
type noStoreError struct{ path string }

func (e *noStoreError) Error() string { return "no database at " + e.path }

// openStoreToRead opens the database for a command that only reads it; a
// missing one is a *noStoreError, which callers answer as they would an
// empty database, without creating it.
func (a *app) openStoreToRead(ctx context.Context) (*store.DB, error) {
	path, err := a.storePath()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, &noStoreError{path: path}
	}
	return openStorePath(ctx, path)
}

// noStore reports whether err says the database does not exist, and where
// it was looked for.
func noStore(err error) (path string, ok bool) {
	var ne *noStoreError
	if errors.As(err, &ne) {
		return ne.path, true
	}
	return "", false
}

func (a *app) storePath() (string, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return "", err
	}
	return a.resolveDBPath(cfg.DB)
}

// expandHome turns a leading ~/ into the home directory.
func expandHome(path, home string) string {
	if home != "" && (path == "~" || len(path) > 1 && path[:2] == "~/") {
		return filepath.Join(home, path[1:])
	}
	return path
}

// openBatch opens the store for the lifecycle and finds the batch called
// name; the caller closes l.db. A missing batch is a usage error.
func (a *app) openBatch(ctx context.Context, name string) (*ledger, store.Batch, error) {
	db, err := a.openStoreToRead(ctx)
	if path, ok := noStore(err); ok {
		return nil, store.Batch{}, usageErrorf("no batch %q: there is no database at %s", name, path)
	}
	if err != nil {
		return nil, store.Batch{}, err
	}
	l := &ledger{db: db, svc: campaign.New(db, a.owner(), a.log)}
	b, err := l.svc.Find(ctx, name)
	if err != nil {
		db.Close()
		return nil, store.Batch{}, a.batchError(err)
	}
	return l, b, nil
}
