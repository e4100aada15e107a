package campaign

// Removing batches: by name, all or none, or by age (prune), and giving
// the space they held back to the file system. A batch a live process
// holds is never removed under it.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/megasend/megasend/store"
)

// Statuses are the statuses a batch can have, in the order it moves
// through them.
func Statuses() []string {
	return []string{store.StatusImporting, store.StatusReady, store.StatusRunning, store.StatusPaused, store.StatusDone}
}

// Remove removes the batches called names with their recipients and
// outcomes, all of them or none, and returns them as they were. A batch
// whose process is gone may be removed.
//
// Errors, after which nothing is removed: NotFound if a name is not a
// batch's (the message names every such name, and any batch held too);
// Locked if a live process is sending or importing one of them (named with
// that process); Invalid for an empty name. Each wraps the
// *store.RemoveError.
func (s *Service) Remove(ctx context.Context, names []string) ([]store.Batch, error) {
	if slices.Contains(names, "") {
		return nil, &Error{Code: Invalid, Field: "name", Msg: "empty batch name"}
	}
	removed, err := s.db.RemoveBatches(ctx, names, s.owner)
	var re *store.RemoveError
	if errors.As(err, &re) {
		return nil, removeError(re)
	}
	if err != nil {
		return nil, err
	}
	return removed, nil
}

// removeError says why Remove removed nothing. A missing name is the
// caller's mistake (NotFound); a batch being sent is a runtime condition
// (Locked), as for a second campaign on it: the same request works once
// that process ends.
func removeError(re *store.RemoveError) *Error {
	var parts []string
	if len(re.Missing) > 0 {
		quoted := make([]string, len(re.Missing))
		for i, n := range re.Missing {
			quoted[i] = strconv.Quote(n)
		}
		what := "no batch "
		if len(quoted) > 1 {
			what = "no batches "
		}
		parts = append(parts, what+strings.Join(quoted, ", "))
	}
	for _, le := range re.Running {
		parts = append(parts, le.Error())
	}
	e := &Error{Code: Locked, Err: re, Msg: strings.Join(parts, "; ") + "; nothing removed"}
	if len(re.Missing) > 0 {
		e.Code, e.Field = NotFound, "batch"
	}
	return e
}

// PrunePolicy says which batches Prune removes: those last active (the
// last write to the batch's row: a status change, a heartbeat while
// sending) before Before, and whose status is one of Statuses, any if
// empty.
type PrunePolicy struct {
	Before   time.Time
	Statuses []string
	// DryRun removes nothing and returns what would be removed.
	DryRun bool
}

// Check refuses, as Invalid, a status a batch cannot have.
func (p PrunePolicy) Check() error {
	all := Statuses()
	for _, st := range p.Statuses {
		if !slices.Contains(all, st) {
			return &Error{Code: Invalid, Field: "state",
				Msg: fmt.Sprintf("%q is not a batch status; want one or more of %s", st, strings.Join(all, ", "))}
		}
	}
	return nil
}

// Prune removes the batches p selects, with their recipients, in one
// transaction, except those a live process holds: it returns those apart,
// as kept. It returns the batches removed (or, with DryRun, that would be),
// oldest first. Errors: Invalid (see PrunePolicy.Check).
func (s *Service) Prune(ctx context.Context, p PrunePolicy) (removed, kept []store.Batch, err error) {
	if err := p.Check(); err != nil {
		return nil, nil, err
	}
	return s.db.PruneBatches(ctx, store.Prune{Before: p.Before, Statuses: p.Statuses, DryRun: p.DryRun}, s.owner)
}

// Reclaim gives the space removed batches held back to the file system
// (VACUUM) when it is at least a quarter of the file and no live process
// holds a batch; otherwise the next batches reuse it. It rewrites the whole
// file (about 3.5 s for a ledger of a million recipients). The Reclaimed
// says what it did, and why not if it did not.
func (s *Service) Reclaim(ctx context.Context) (store.Reclaimed, error) {
	return s.db.Reclaim(ctx, s.owner)
}
