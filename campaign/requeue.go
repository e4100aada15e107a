package campaign

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/megasend/megasend/store"
)

// Selection is which recipients a retry requeues.
type Selection struct {
	Failed  bool
	Codes   []int // with Failed: only those that failed with one of these; empty: all
	Unknown bool  // those whose outcome is unknown (a resend may deliver twice)
}

// String describes the selection: "failed with errcode 43004 or -1".
func (s Selection) String() string {
	var parts []string
	if s.Failed {
		p := "failed"
		if len(s.Codes) > 0 {
			codes := make([]string, len(s.Codes))
			for i, c := range s.Codes {
				codes[i] = strconv.Itoa(c)
			}
			p += " with errcode " + strings.Join(codes, " or ")
		}
		parts = append(parts, p)
	}
	if s.Unknown {
		parts = append(parts, "with an unknown outcome")
	}
	return strings.Join(parts, " or ")
}

// Requeue puts the recipients of batch b that sel chooses back to pending,
// holding the batch's lock so it cannot race a process sending the batch,
// and returns how many it requeued. When it requeued any, the lock stays
// taken for the Resume that sends them, by this service; otherwise it is
// released. It proves the ledger sound first. Errors: Invalid (a batch
// still importing), Locked.
func (s *Service) Requeue(ctx context.Context, b store.Batch, sel Selection) (int64, error) {
	if err := s.CheckLedger(ctx); err != nil {
		return 0, err
	}
	if b.Status == store.StatusImporting {
		return 0, Errorf(Invalid, "batch %s has not finished importing; finish it first", b.Name)
	}
	held, err := s.holds(ctx, b.Name)
	if err != nil {
		return 0, err
	}
	if err := s.lock(ctx, b); err != nil {
		return 0, err
	}
	n, err := s.db.Requeue(ctx, b.ID, sel.Failed, sel.Codes, sel.Unknown)
	// A lock this process held before (the service's runner sending b) is
	// not this call's to release.
	if (err != nil || n == 0) && !held {
		if uerr := s.db.Unlock(context.WithoutCancel(ctx), b.ID, s.owner); err == nil {
			err = uerr
		}
	}
	return n, err
}

// holds reports whether this process holds the lock of the batch called
// name already: its runner is sending it. Locks are re-entrant within a
// process, so a call that takes such a lock again must not release it
// (see Submit, Retry).
func (s *Service) holds(ctx context.Context, name string) (bool, error) {
	b, err := s.db.Batch(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil && b.LockOwner == s.owner, err
}
