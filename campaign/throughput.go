package campaign

import (
	"context"
	"time"

	"github.com/megasend/megasend/store"
)

// Throughput is a batch's pace over its run: the sends that ended (sent,
// failed or unknown) per second, averaged over steps of Step from Start.
// A run of a few minutes has a step of a second; a longer one, or one
// paused for a day, wider steps, so that a chart of it has at most the
// points asked for.
type Throughput struct {
	Start     time.Time     `json:"start"`
	Step      time.Duration `json:"step"`
	PerSecond []float64     `json:"per_second"`
	// Peak is the largest of PerSecond.
	Peak float64 `json:"peak"`
}

// Throughput returns batch b's sends per second over its run in at most
// points steps (points < 1 is taken as 1). A batch nothing has been sent
// for has none.
func (s *Service) Throughput(ctx context.Context, b store.Batch, points int) (Throughput, error) {
	secs, err := s.db.DoneBySecond(ctx, b.ID)
	if err != nil {
		return Throughput{}, err
	}
	return throughput(secs, points), nil
}

// throughput buckets per-second counts into at most points steps.
func throughput(secs []store.SecondCount, points int) Throughput {
	if len(secs) == 0 {
		return Throughput{Step: time.Second}
	}
	points = max(points, 1)
	first, last := secs[0].At, secs[len(secs)-1].At
	span := int64(last.Sub(first)/time.Second) + 1 // seconds, both ends included
	step := (span + int64(points) - 1) / int64(points)
	t := Throughput{Start: first, Step: time.Duration(step) * time.Second,
		PerSecond: make([]float64, (span+step-1)/step)}
	for _, sc := range secs {
		i := int64(sc.At.Sub(first)/time.Second) / step
		t.PerSecond[i] += float64(sc.Count)
	}
	for i := range t.PerSecond {
		t.PerSecond[i] /= float64(step)
		t.Peak = max(t.Peak, t.PerSecond[i])
	}
	return t
}
