package campaign

import (
	"context"

	"github.com/megasend/megasend/store"
)

// Remaining returns how many recipients of batch b are still to be sent:
// pending, and in flight from a run that stopped.
func (s *Service) Remaining(ctx context.Context, b store.Batch) (int64, error) {
	return s.db.Remaining(ctx, b.ID)
}

// DropUnsent deletes batch b if nothing of it was ever sent, and reports
// whether it did. A face calls it for a batch its request created and
// that stopped before the first send (refused, declined, WeChat out of
// reach), so that retrying the request does not leave one stray batch per
// attempt. A batch of which any request may have left is kept.
func (s *Service) DropUnsent(ctx context.Context, b *Batch) (bool, error) {
	c, err := s.db.Counts(ctx, b.ID)
	if err != nil || c.Sent+c.Failed+c.Unknown+c.Inflight > 0 {
		return false, err
	}
	return true, s.db.DeleteBatch(ctx, b.ID)
}

// Outcome is what the ledger holds of a batch after a run: its row (status
// and pause reason), its counts by state, and its failures grouped by
// errcode.
type Outcome struct {
	Batch    store.Batch
	Counts   store.Counts
	Failures []store.FailureGroup
	// SentByKind counts the sent recipients by the kind that reached them,
	// for a batch with a fallback; nil for one of one kind.
	SentByKind map[string]int64
	// SkippedReasons count the skipped recipients by why, as the report
	// does (Report.SkippedReasons); nil when none is skipped.
	SkippedReasons map[string]int64
}

// outcome reads batch b's Outcome.
func (s *Service) outcome(ctx context.Context, b *Batch) (Outcome, error) {
	sb, err := s.db.Batch(ctx, b.Name)
	if err != nil {
		return Outcome{}, err
	}
	c, groups, err := s.db.Outcomes(ctx, sb.ID)
	if err != nil {
		return Outcome{}, err
	}
	o := Outcome{Batch: sb, Counts: c, Failures: groups}
	if sb.FallbackRef != "" {
		if o.SentByKind, err = s.db.SentByKind(ctx, sb.ID); err != nil {
			return Outcome{}, err
		}
	}
	if c.Skipped > 0 {
		if o.SkippedReasons, err = s.db.SkippedReasons(ctx, sb.ID); err != nil {
			return Outcome{}, err
		}
	}
	return o, nil
}

// Counts returns batch b's recipients counted by state, for a display of
// its progress: cheap enough to ask every second while it runs.
func (s *Service) Counts(ctx context.Context, b store.Batch) (store.Counts, error) {
	return s.db.Counts(ctx, b.ID)
}
