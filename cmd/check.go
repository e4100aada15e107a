package cmd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/megasend/megasend/store"
)

// checkOptions are the parsed flags of megasend check.
type checkOptions struct {
	full bool
}

func (a *app) checkCommand() *cli.Command {
	var o checkOptions
	return &cli.Command{
		Name:  "check",
		Usage: "check that the database file is sound: every page readable, every b-tree whole",
		UsageText: `megasend check [--full]

Runs SQLite's quick_check on the database: it reads every page and checks every
table and index, and that each page is used once. --full runs integrity_check,
which also matches every index to its table (a little slower). Prints ok and
exits 0, or lists the problems and exits 1. It changes nothing in the database.
'campaign --resume' and 'retry' run the quick check before they send anything.`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: flgFull, Usage: "also match every index to its table (PRAGMA integrity_check)", Destination: &o.full},
		},
		Action: func(c *cli.Context) error {
			args, err := parseInterleaved(c, &o)
			if err != nil {
				return err
			}
			if len(args) > 0 {
				return usageErrorf("check: unexpected argument %q", args[0])
			}
			return a.runCheck(c.Context, o)
		},
	}
}

// runCheck checks the database file without opening it as the other
// commands do: a file too damaged to migrate can still be examined.
func (a *app) runCheck(ctx context.Context, o checkOptions) error {
	path, err := a.storePath()
	if err != nil {
		return err
	}
	switch fi, err := os.Stat(path); {
	case errors.Is(err, fs.ErrNotExist):
		return usageErrorf("check: there is no database at %s", path)
	case err != nil:
		return err
	case fi.IsDir():
		return dbIsDirectory(path)
	}
	pragma := "quick_check"
	if o.full {
		pragma = "integrity_check"
	}
	start := time.Now()
	err = store.Check(ctx, path, o.full)
	var ce *store.CorruptError
	if !errors.As(err, &ce) {
		if err != nil {
			return err
		}
		a.tell("%s: ok (%s, %s)", path, pragma, time.Since(start).Round(time.Millisecond))
		return nil
	}
	for _, p := range ce.Problems {
		fmt.Fprintf(a.streams.Out, "%s\n", p)
	}
	return err
}

// damagedError is an error that says the database file is damaged, with
// what to do about it.
type damagedError struct {
	err    error
	advice string
}

func (e *damagedError) Error() string { return e.err.Error() + "; " + e.advice }

func (e *damagedError) Unwrap() error { return e.err }

// damaged adds what to do to an error that says the database file is
// damaged (wherever SQLite met the damage: a check, a read, a write), and
// returns any other error as it is. Main applies it to every error, so
// that no SQLite "database disk image is malformed" goes out unexplained.
func (a *app) damaged(err error) error {
	var (
		de *damagedError
		ce *store.CorruptError
	)
	switch {
	case !store.IsCorrupt(err), errors.As(err, &de):
		return err
	case errors.As(err, &ce) && ce.NotADatabase():
		return err // not a database at all: perhaps not the file meant
	case ce == nil:
		// SQLite's own error, from a read the store does not classify.
		if path, perr := a.storePath(); perr == nil {
			err = fmt.Errorf("database %s is damaged: %w", path, err)
		}
	}
	return &damagedError{err: err, advice: fmt.Sprintf("nothing more is sent from it: copy it aside (with its -wal file), "+
		"see the damage with '%s', and restore the database from a backup", a.commandLine("check", "--"+flgFull))}
}
