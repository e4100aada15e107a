package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// A ledger that SQLite finds damaged must not be trusted: a page of sends
// rows that cannot be read looks like recipients never tried (resent), or
// is simply left out of a count (a report says "done"). So every error that
// SQLite raises on a damaged file is told apart from the others, writers
// stop on it, and a resume checks the whole file before its first send.

// ErrCorrupt is matched, with errors.Is, by the errors of a database file
// that SQLite found damaged (SQLITE_CORRUPT), that is not a database at all
// (SQLITE_NOTADB), or that failed an integrity check.
var ErrCorrupt = errors.New("database file is damaged")

// CorruptError says the database file is damaged. Either SQLite met the
// damage while reading or writing (Err), or an integrity check listed it
// (Problems). It matches ErrCorrupt.
type CorruptError struct {
	Path     string
	Problems []string // PRAGMA quick_check's or integrity_check's lines; empty when Err found it
	Err      error    // the SQLite error that revealed the damage; nil after a check
}

func (e *CorruptError) Error() string {
	var b strings.Builder
	if e.NotADatabase() {
		fmt.Fprintf(&b, "%s is not a SQLite database, or its header is damaged", e.Path)
	} else {
		fmt.Fprintf(&b, "database %s is damaged", e.Path)
	}
	switch {
	case e.Err != nil:
		fmt.Fprintf(&b, ": %v", e.Err)
	case len(e.Problems) > 0:
		fmt.Fprintf(&b, ": %s", e.Problems[0])
		if n := len(e.Problems) - 1; n > 0 {
			fmt.Fprintf(&b, " (and %d more %s)", n, map[bool]string{true: "problem", false: "problems"}[n == 1])
		}
	}
	return b.String()
}

// NotADatabase reports whether SQLite found no database in the file
// (SQLITE_NOTADB): another kind of file, or a database whose first page,
// its header, is damaged.
func (e *CorruptError) NotADatabase() bool { return notADatabase(e.Err) }

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

func (e *CorruptError) Unwrap() error { return e.Err }

// IsCorrupt reports whether err says the database file is damaged: it
// matches ErrCorrupt, or SQLite's own error in its chain has the result
// code SQLITE_CORRUPT or SQLITE_NOTADB (extended codes included).
func IsCorrupt(err error) bool {
	if errors.Is(err, ErrCorrupt) {
		return true
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		return true
	}
	return false
}

func notADatabase(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_NOTADB
}

// corrupt turns an error of SQLite's on a damaged file into a
// *CorruptError naming path; it returns any other error as it is.
func corrupt(path string, err error) error {
	if err == nil || errors.Is(err, ErrCorrupt) || !IsCorrupt(err) {
		return err
	}
	return &CorruptError{Path: path, Err: err}
}

// maxProblems bounds the lines a check returns, as SQLite's default does.
const maxProblems = 100

// QuickCheck runs PRAGMA quick_check over the whole file: every page of
// every table and index is read and its structure checked, and every page
// is accounted for exactly once. It does not match indexes to their tables
// (IntegrityCheck does). It costs a read of the whole file: about 0.7 s for
// a ledger of a million recipients (BENCHMARKS.md). Returns a
// *CorruptError listing the problems if there are any.
func (d *DB) QuickCheck(ctx context.Context) error {
	return d.check(ctx, "quick_check")
}

// IntegrityCheck runs PRAGMA integrity_check: QuickCheck's checks, and that
// every index holds exactly its table's rows. Returns a *CorruptError
// listing the problems if there are any.
func (d *DB) IntegrityCheck(ctx context.Context) error {
	return d.check(ctx, "integrity_check")
}

func (d *DB) check(ctx context.Context, pragma string) error {
	problems, err := runCheck(ctx, d.db, pragma)
	switch {
	case notADatabase(err):
		return &CorruptError{Path: d.path, Err: err}
	case err != nil && IsCorrupt(err):
		// SQLite lists what it found, then stops at damage it cannot walk
		// past: that is one more problem.
		problems = append(problems, err.Error())
	case err != nil:
		return fmt.Errorf("%s %s: %w", pragma, d.path, err)
	}
	if len(problems) > 0 {
		return &CorruptError{Path: d.path, Problems: nameTrees(ctx, d.db, problems)}
	}
	return nil
}

// nameTrees adds the name of the table or index to SQLite's "Tree 13"
// (the b-tree whose root is page 13) in problems, if the schema can be
// read: "Tree 13 (sends) page 163: ...".
func nameTrees(ctx context.Context, db *sql.DB, problems []string) []string {
	rows, err := db.QueryContext(ctx, `SELECT rootpage, name FROM sqlite_schema WHERE rootpage > 0`)
	if err != nil {
		return problems
	}
	defer rows.Close()
	var pairs []string
	for rows.Next() {
		var root int64
		var name string
		if rows.Scan(&root, &name) != nil {
			return problems
		}
		pairs = append(pairs, fmt.Sprintf("Tree %d ", root), fmt.Sprintf("Tree %d (%s) ", root, name))
	}
	if rows.Err() != nil {
		return problems
	}
	r := strings.NewReplacer(pairs...)
	for i, p := range problems {
		problems[i] = r.Replace(p)
	}
	return problems
}

// runCheck runs PRAGMA pragma (quick_check or integrity_check) and returns
// its problems: none when SQLite answers "ok".
func runCheck(ctx context.Context, db *sql.DB, pragma string) ([]string, error) {
	rows, err := db.QueryContext(ctx, fmt.Sprintf("PRAGMA %s(%d)", pragma, maxProblems))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return nil, err
		}
		// The first line names the schema: "*** in database main ***\n".
		// A row may hold several problems, one a line, and the first
		// names the schema: "*** in database main ***".
		for _, p := range strings.Split(line, "\n") {
			if p != "ok" && p != "" && !strings.HasPrefix(p, "*** in database ") {
				problems = append(problems, p)
			}
		}
	}
	return problems, rows.Err()
}

// Check runs QuickCheck, or IntegrityCheck if full, on the database file at
// path without opening it as Open does: nothing is migrated, and the
// connection is query-only (SQLite may still copy a WAL's committed pages
// into the file as it closes, as any last connection does), so a file too
// damaged for Open can still be examined. A missing file is an
// error, not a new database. Returns a *CorruptError listing the problems
// if there are any, or naming the error that revealed the damage.
func Check(ctx context.Context, path string, full bool) error {
	sdb, err := sql.Open("sqlite", fileDSN(path, "mode=rw", "_pragma=busy_timeout(10000)", "_pragma=query_only(1)"))
	if err != nil {
		return fmt.Errorf("check %s: %w", path, err)
	}
	defer sdb.Close()
	d := &DB{db: sdb, path: path}
	if full {
		return d.IntegrityCheck(ctx)
	}
	return d.QuickCheck(ctx)
}
