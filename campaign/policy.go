package campaign

import (
	"context"
	"errors"
	"fmt"

	"github.com/megasend/megasend/policy"
	"github.com/megasend/megasend/sender"
)

// ErrQuietHours is the cause of a run stopped, or not begun, because its
// quiet hours began.
var ErrQuietHours = errors.New("quiet hours")

// Policy is what a batch is asked to observe beyond its account's
// configuration. It is kept with the batch: a resume applies it. A nil
// field leaves what the batch had (at first: its account's).
type Policy struct {
	// QuietHours, if set, replaces the account's; a zero QuietHours asks
	// for none (off).
	QuietHours *policy.QuietHours
	// Cap, if set, replaces the account's frequency cap; a zero Cap asks
	// for none (off).
	Cap *policy.Cap
}

// policyOff is how a batch that asked for no quiet hours, or no cap, says
// so in the ledger (store.BatchPolicy).
const policyOff = "off"

// setPolicy keeps for batch id what p sets, and leaves the rest.
func (s *Service) setPolicy(ctx context.Context, id int64, p *Policy) error {
	if p == nil || p.QuietHours == nil && p.Cap == nil {
		return nil
	}
	bp, err := s.db.BatchPolicyOf(ctx, id)
	if err != nil {
		return err
	}
	if p.QuietHours != nil {
		bp.QuietHours = orOff(p.QuietHours.String())
	}
	if p.Cap != nil {
		bp.Cap = orOff(p.Cap.String())
	}
	return s.db.SetBatchPolicy(ctx, id, bp)
}

func orOff(s string) string {
	if s == "" {
		return policyOff
	}
	return s
}

// quietHours returns the quiet hours batch b observes: its own, or else
// the account's (o.QuietHours).
func (s *Service) quietHours(ctx context.Context, b *Batch, o RunOptions) (policy.QuietHours, error) {
	p, err := s.db.BatchPolicyOf(ctx, b.ID)
	if err != nil {
		return policy.QuietHours{}, err
	}
	switch p.QuietHours {
	case "":
		return o.QuietHours, nil
	case policyOff:
		return policy.QuietHours{}, nil
	}
	q, err := policy.ParseStored(p.QuietHours)
	if err != nil {
		return policy.QuietHours{}, fmt.Errorf("batch %s: stored %w", b.Name, err)
	}
	return q, nil
}

// capOf returns the frequency cap batch b observes: its own, or else the
// account's (o.Cap).
func (s *Service) capOf(ctx context.Context, b *Batch, o RunOptions) (policy.Cap, error) {
	p, err := s.db.BatchPolicyOf(ctx, b.ID)
	if err != nil {
		return policy.Cap{}, err
	}
	if p.Cap == "" {
		return o.Cap, nil
	}
	c, err := policy.ParseCap(p.Cap) // "off" is no cap
	if err != nil {
		return policy.Cap{}, fmt.Errorf("batch %s: stored %w", b.Name, err)
	}
	return c, nil
}

// batchCapper is what batch b's engine asks before each first attempt, or
// nil when no cap applies to it.
func (s *Service) batchCapper(b *Batch, c policy.Cap) sender.Capper {
	if c.IsZero() {
		return nil
	}
	return batchCap{claims: s.caps, account: b.Account, cap: c}
}
