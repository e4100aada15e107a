// Package store keeps megasend's state in one SQLite file: the batch ledger
// (every recipient's state), the templates, and the shared access-token
// cache. It uses modernc.org/sqlite (pure Go), WAL, and migrations embedded
// in the binary.
//
// Exported methods own their transactions; unexported helpers take a *sql.Tx.
// Times are stored as unix milliseconds.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"modernc.org/sqlite" // also registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// maxIdleConns is how many connections the pool keeps open between uses.
const maxIdleConns = 32

// ErrNotFound is returned when a template, batch or token does not exist.
var ErrNotFound = errors.New("not found")

// DB is an open megasend database.
type DB struct {
	db   *sql.DB
	path string

	// Now returns the current time; tests replace it.
	Now func() time.Time

	stmts stmtCache
}

// Open opens (creating if needed, mode 0600) the database at path and
// applies pending migrations. The pragmas go in the DSN so every pooled
// connection has them. A path that is a directory is ErrIsDirectory; a file
// SQLite finds damaged, or that is not a database, is a *CorruptError.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("open store: empty path")
	}
	if err := createPrivate(path); err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	// No journal_mode here: it would run on every new connection, and
	// switching a new file to WAL is the one step the busy timeout does not
	// cover (see useWAL). WAL, once set, belongs to the file.
	sdb, err := sql.Open("sqlite", fileDSN(path,
		fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeout.Milliseconds()),
		"_pragma=synchronous(NORMAL)",
		"_pragma=foreign_keys(1)",
		"_txlock=immediate",
	))
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	// database/sql keeps two idle connections by default and closes the
	// rest as they are put back. A new SQLite connection reads and parses
	// the whole schema before its first statement: under a service's
	// concurrent requests that cost more than the requests did.
	sdb.SetMaxIdleConns(maxIdleConns)
	d := &DB{db: sdb, path: path, Now: time.Now}
	err = d.useWAL(ctx)
	if err == nil {
		err = d.migrate(ctx)
	}
	if err != nil {
		sdb.Close()
		if IsCorrupt(err) {
			return nil, fmt.Errorf("open store: %w", corrupt(path, err))
		}
		if cause := probeWritable(path); cause != nil {
			return nil, fmt.Errorf("open store %s: %w (%v)", path, cause, err)
		}
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return d, nil
}

// fileDSN is the driver's name for the database file at path with params.
// The pragmas go in it so that every pooled connection has them.
func fileDSN(path string, params ...string) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + strings.Join(params, "&")
}

// ErrIsDirectory is returned by Open when the path names a directory.
// SQLite alone says only "unable to open database file".
var ErrIsDirectory = errors.New("it is a directory, not a database file")

// createPrivate creates the database file, if it does not exist yet,
// readable by its owner only: it holds recipients' personal data. SQLite
// gives the -wal and -shm files it creates beside it the same mode. A file
// that exists keeps the mode its owner gave it.
func createPrivate(path string) error {
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.IsDir():
		return ErrIsDirectory
	case err == nil:
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil // another process created it first
	}
	if err != nil {
		// Left to SQLite, whose error probeWritable then explains.
		return nil
	}
	return f.Close()
}

// probeWritable explains a database that cannot be opened for writing in
// the words of the file system: SQLite only says "unable to open database
// file" or "disk I/O error", whether the disk is full or read-only. It
// writes a small file next to the database and removes it.
func probeWritable(path string) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".megasend-probe-*")
	if err == nil {
		name := f.Name()
		_, err = f.Write(make([]byte, 64<<10))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		os.Remove(name)
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, syscall.EROFS):
		return errors.New("the file system is read-only")
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return errors.New("no space left on the disk")
	case errors.Is(err, fs.ErrPermission):
		return errors.New("no permission to write its directory")
	}
	return nil
}

// busyTimeout is how long a statement waits for another connection's lock
// (SQLite's busy_timeout) before it fails with SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// useWAL puts the database file in WAL mode, which it keeps. A file
// already in WAL mode is only read. Switching a
// new file writes its header: SQLite takes a read lock, then upgrades it
// to a write lock, and it does not call the busy handler for such an
// upgrade (waiting while holding the read lock could deadlock), so a
// second process doing the same at that instant gets SQLITE_BUSY at once.
// As SQLite intends, the statement is then run again once its locks are
// released, until busyTimeout has passed.
func (d *DB) useWAL(ctx context.Context) error {
	var mode string
	if err := d.db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		return fmt.Errorf("read journal mode: %w", err)
	}
	if strings.EqualFold(mode, "wal") {
		return nil
	}
	deadline := time.Now().Add(busyTimeout)
	for pause := time.Millisecond; ; pause = min(2*pause, 50*time.Millisecond) {
		err := d.db.QueryRowContext(ctx, `PRAGMA journal_mode = WAL`).Scan(&mode)
		switch {
		case err == nil:
			return nil
		case !isBusy(err) || time.Now().After(deadline):
			return fmt.Errorf("set journal mode WAL: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
}

// isBusy reports whether err is SQLite's SQLITE_BUSY (extended codes
// included): another connection held a lock this one needed.
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// Close closes the database.
func (d *DB) Close() error {
	d.stmts.close()
	return d.db.Close()
}

// Path returns the file the database lives in.
func (d *DB) Path() string { return d.path }

// SQL exposes the underlying handle for read-only reporting queries and tests.
func (d *DB) SQL() *sql.DB { return d.db }

func (d *DB) nowMS() int64 { return d.Now().UnixMilli() }

// migrate applies every embedded migration not yet recorded, each in its
// own transaction. Migrations are append-only: a released file never changes.
func (d *DB) migrate(ctx context.Context) error {
	names, err := migrationNames()
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := d.migrateFile(ctx, name); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	return nil
}

// migrationNames lists the embedded migrations in the order they apply.
func migrationNames() ([]string, error) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	sort.Strings(names)
	return names, err
}

// migrateFile applies the migration name unless it is recorded. The
// transaction is BEGIN IMMEDIATE (the DSN's _txlock): it takes the write
// lock before it reads, waiting for it under busy_timeout, so that of two
// processes opening a fresh file one applies the migration and the other,
// reading the record only once it holds the lock, finds it applied. The
// migrations table is created in the same transaction for the same reason.
func (d *DB) migrateFile(ctx context.Context, name string) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create migrations table: %w", err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM migrations WHERE name = ?`, name).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	body, err := fs.ReadFile(migrations, name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO migrations (name, applied_at) VALUES (?, ?)`, name, d.nowMS()); err != nil {
		return err
	}
	return tx.Commit()
}

// msTime converts stored unix milliseconds to a time; zero stays zero.
func msTime(ms sql.NullInt64) time.Time {
	if !ms.Valid || ms.Int64 == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms.Int64)
}
