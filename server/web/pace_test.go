package web

import (
	"testing"
	"time"
)

func TestPaces(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	ps := newPaces()
	steps := []struct {
		at   time.Time
		done int64
		want float64
	}{
		{at(0), 0, 0},              // one poll: no pace yet
		{at(500), 10, 0},           // under a second apart
		{at(1000), 20, 20},         // 20 in 1 s
		{at(2000), 60, 30},         // 60 in 2 s
		{at(7000), 160, 20},        // the window keeps the last reading at or before 2000: 100 in 5 s
		{at(8000), 160, 100.0 / 6}, // nothing new: 100 in 6 s
		{at(9000), 10, 0},          // requeued: starts over
	}
	for i, s := range steps {
		if got := ps.add("b", s.at, s.done); got != s.want {
			t.Errorf("step %d: add(%v, %d) = %v, want %v", i, s.at.Sub(t0), s.done, got, s.want)
		}
	}
}
