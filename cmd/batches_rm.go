package cmd

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/megasend/megasend/campaign"
	"github.com/megasend/megasend/store"
)

func (a *app) batchesRmCommand() *cli.Command {
	var o struct{}
	return &cli.Command{
		Name:      "rm",
		Usage:     "remove batches with their recipients, all of them or none (a batch being sent is refused)",
		ArgsUsage: "NAME...",
		UsageText: `megasend batches rm NAME...

Removes each batch with its recipients and their outcomes from the ledger, all
of them or none: a name that is not a batch, or a batch a live process is sending
or importing, removes nothing. A batch whose process is gone may be removed.`,
		Action: func(c *cli.Context) error {
			names, err := parseInterleaved(c, &o)
			if err != nil {
				return err
			}
			if len(names) == 0 {
				return usageErrorf("batches rm: missing batch name; usage: megasend batches rm NAME... (see 'megasend batches')")
			}
			return a.runBatchesRm(c.Context, names)
		},
	}
}

// runBatchesRm removes the named batches and reclaims their space if that
// is worth it.
func (a *app) runBatchesRm(ctx context.Context, names []string) error {
	for _, n := range names {
		if n == "" {
			return usageErrorf("batches rm: empty batch name")
		}
	}
	db, svc, err := a.openService(ctx)
	if path, ok := noStore(err); ok {
		return usageErrorf("no batch %q: there is no database at %s", names[0], path)
	}
	if err != nil {
		return err
	}
	defer db.Close()
	removed, err := svc.Remove(ctx, names)
	if err != nil {
		return removeError(err)
	}
	for _, b := range removed {
		a.tell("removed batch %s (%s, %d %s)", b.Name, b.Status, b.Total, plural(int(b.Total), "recipient"))
	}
	return a.reclaim(ctx, db.Path(), svc)
}

// removeError adds where to look to why rm removed nothing. Its code makes
// the exit code (exitCode): a missing name is a usage error (2); a batch
// being sent is a runtime condition (1), as for a second campaign on it:
// the same command works once it ends.
func removeError(err error) error {
	if c := campaign.ErrorCode(err); c == campaign.NotFound || c == campaign.Locked {
		return fmt.Errorf("%w (see 'megasend batches')", err)
	}
	return err
}

// pruneOptions are the parsed flags of megasend batches prune.
type pruneOptions struct {
	olderThan string
	states    string
	dryRun    bool
}

func (a *app) batchesPruneCommand() *cli.Command {
	var o pruneOptions
	return &cli.Command{
		Name:  "prune",
		Usage: "remove the batches last active longer ago than AGE",
		UsageText: `megasend batches prune --older-than AGE [--state STATUS,...] [--dry-run]

Removes every batch whose last activity is older than AGE (30d, 12h, 90m; d is a
day, w a week) and, with --state, whose status is one of those given: importing,
ready, running, paused or done. A batch a live process holds is kept. Prints each
batch removed; --dry-run prints them and removes nothing.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: flgOlderThan, Usage: "remove batches last active more than `AGE` ago (30d, 2w, 36h)", Destination: &o.olderThan},
			&cli.StringFlag{Name: flgState, Usage: "only batches whose status is one of `STATUS,...`", Destination: &o.states},
			&cli.BoolFlag{Name: flgDryRun, Usage: "print what would be removed; remove nothing", Destination: &o.dryRun},
		},
		Action: func(c *cli.Context) error {
			args, err := parseInterleaved(c, &o)
			if err != nil {
				return err
			}
			if len(args) > 0 {
				return usageErrorf("batches prune: unexpected argument %q (to remove batches by name: megasend batches rm NAME...)", args[0])
			}
			return a.runBatchesPrune(c.Context, o)
		},
	}
}

// runBatchesPrune removes the old batches o selects.
func (a *app) runBatchesPrune(ctx context.Context, o pruneOptions) error {
	if o.olderThan == "" {
		return usageErrorf("batches prune: --%s AGE is required (e.g. --%s 30d)", flgOlderThan, flgOlderThan)
	}
	age, err := parseAge(o.olderThan)
	if err != nil {
		return usageErrorf("--%s: %w", flgOlderThan, err)
	}
	p := campaign.PrunePolicy{Before: time.Now().Add(-age), DryRun: o.dryRun}
	if o.states != "" {
		for _, s := range strings.Split(o.states, ",") {
			p.Statuses = append(p.Statuses, strings.ToLower(strings.TrimSpace(s)))
		}
	}
	// Before the database is opened: a wrong --state is refused even
	// where there is no database yet.
	if err := p.Check(); err != nil {
		return usageErrorf("--%s: %w", flgState, err)
	}
	db, svc, err := a.openService(ctx)
	if path, ok := noStore(err); ok {
		a.tell("no batches: there is no database at %s", path)
		return nil
	}
	if err != nil {
		return err
	}
	defer db.Close()
	removed, kept, err := svc.Prune(ctx, p)
	if err != nil {
		return err
	}
	verb := "removed"
	if o.dryRun {
		verb = "would remove"
	}
	for _, b := range removed {
		a.tell("%s batch %s (%s, %d %s, last active %s)", verb, b.Name, b.Status, b.Total, plural(int(b.Total), "recipient"), fmtTime(b.UpdatedAt))
	}
	for _, b := range kept {
		pid, host, _ := strings.Cut(b.LockOwner, "@")
		a.tell("kept batch %s: pid %s on %s is sending it", b.Name, pid, host)
	}
	if len(removed) == 0 {
		a.tell("no batch to remove: none was last active before %s%s", fmtTime(p.Before), stateText(p.Statuses))
		return nil
	}
	if o.dryRun {
		return nil
	}
	return a.reclaim(ctx, db.Path(), svc)
}

func stateText(states []string) string {
	if len(states) == 0 {
		return ""
	}
	return " with status " + strings.Join(states, " or ")
}

// reclaim gives the space removed batches held back to the file system
// when that is worth a rewrite of the file at path, and says what it did.
func (a *app) reclaim(ctx context.Context, path string, svc *campaign.Service) error {
	r, err := svc.Reclaim(ctx)
	switch {
	case err != nil:
		// The batches are gone; only the file's size is left as it was.
		a.log.Warn("the removed batches' space is kept for the next batches: vacuum failed", "err", err)
	case r.Vacuumed:
		a.tell("database %s: %s, was %s (vacuumed)", path, fmtBytes(r.After.Size), fmtBytes(r.Before.Size))
	case len(r.Busy) > 0:
		a.tell("database %s: %s, %s of it free; not vacuumed while %s %s sent: the next batches reuse the space",
			path, fmtBytes(r.Before.Size), fmtBytes(r.Before.Free), strings.Join(r.Busy, ", "),
			map[bool]string{true: "is being", false: "are being"}[len(r.Busy) == 1])
	case r.Before.Free > 0:
		a.tell("database %s: %s, %s of it free for the next batches", path, fmtBytes(r.Before.Size), fmtBytes(r.Before.Free))
	}
	return nil
}

// owner is this process's owner string in batch locks.
func (a *app) owner() string { return store.Owner(a.streams.PID, a.streams.Hostname) }

// parseAge reads an age such as 30d, 2w, 36h or 90m: Go's durations, and
// days (d) and weeks (w), which Go's have not. It must not be negative.
func parseAge(s string) (time.Duration, error) {
	want := fmt.Errorf("want an age such as 30d, 2w, 36h or 90m, got %q", s)
	var d time.Duration
	if n, unit := strings.TrimRight(s, "dw"), strings.TrimLeft(s, "0123456789."); len(unit) == 1 && n+unit == s {
		days, err := strconv.ParseFloat(n, 64)
		if err != nil {
			return 0, want
		}
		if unit == "w" {
			days *= 7
		}
		if days*24 > math.MaxInt64/float64(time.Hour) {
			return 0, want
		}
		d = time.Duration(days * 24 * float64(time.Hour))
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, want
		}
	}
	if d < 0 {
		return 0, fmt.Errorf("an age must not be negative, got %q", s)
	}
	return d, nil
}

// fmtBytes writes a size for people: 512 B, 3.2 MB.
func fmtBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f, suffix := float64(n), "kMGT"
	i := -1
	for f >= unit && i < len(suffix)-1 {
		f /= unit
		i++
	}
	return fmt.Sprintf("%.1f %cB", f, suffix[i])
}
