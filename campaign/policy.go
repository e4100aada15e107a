package campaign

import (
	"context"
	"errors"
	"fmt"

	"github.com/megasend/megasend/policy"
	"github.com/megasend/megasend/store"
)

// ErrQuietHours is the cause of a run stopped, or not begun, because its
// quiet hours began.
var ErrQuietHours = errors.New("quiet hours")

// Policy is what a batch is asked to observe beyond its account's
// configuration. It is kept with the batch: a resume applies it.
type Policy struct {
	// QuietHours, if set, replaces the account's. Off (a set Policy with a
	// zero QuietHours) asks for none.
	QuietHours policy.QuietHours
}

// quietOff is how a batch that asked for no quiet hours says so in the
// ledger (store.BatchPolicy.QuietHours).
const quietOff = "off"

// setPolicy keeps p for batch id.
func (s *Service) setPolicy(ctx context.Context, id int64, p *Policy) error {
	if p == nil {
		return nil
	}
	q := p.QuietHours.String()
	if q == "" {
		q = quietOff
	}
	return s.db.SetBatchPolicy(ctx, id, store.BatchPolicy{QuietHours: q})
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
	case quietOff:
		return policy.QuietHours{}, nil
	}
	q, err := policy.ParseStored(p.QuietHours)
	if err != nil {
		return policy.QuietHours{}, fmt.Errorf("batch %s: stored %w", b.Name, err)
	}
	return q, nil
}
