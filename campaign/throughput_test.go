package campaign

import (
	"slices"
	"testing"
	"time"

	"github.com/megasend/megasend/store"
)

func TestThroughput(t *testing.T) {
	sc := func(s, n int64) store.SecondCount {
		return store.SecondCount{At: time.Unix(1_700_000_000+s, 0), Count: n}
	}
	tests := []struct {
		name     string
		secs     []store.SecondCount
		points   int
		wantStep time.Duration
		want     []float64
	}{
		{"none", nil, 10, time.Second, nil},
		{"one second", []store.SecondCount{sc(0, 7)}, 10, time.Second, []float64{7}},
		{"gaps are zeros", []store.SecondCount{sc(0, 2), sc(3, 4)}, 10, time.Second, []float64{2, 0, 0, 4}},
		// 10 seconds into 4 points: steps of 3 s, the last one partly past
		// the run.
		{"wider steps average", []store.SecondCount{sc(0, 3), sc(1, 3), sc(2, 6), sc(9, 9)}, 4, 3 * time.Second, []float64{4, 0, 0, 3}},
		{"points below one", []store.SecondCount{sc(0, 1), sc(1, 3)}, 0, 2 * time.Second, []float64{2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := throughput(tt.secs, tt.points)
			if got.Step != tt.wantStep || !slices.Equal(got.PerSecond, tt.want) {
				t.Errorf("throughput() = step %v %v, want step %v %v", got.Step, got.PerSecond, tt.wantStep, tt.want)
			}
			if len(tt.secs) > 0 && !got.Start.Equal(tt.secs[0].At) {
				t.Errorf("Start = %v, want %v", got.Start, tt.secs[0].At)
			}
			if len(got.PerSecond) > max(tt.points, 1) {
				t.Errorf("%d points, more than %d", len(got.PerSecond), tt.points)
			}
			if want := slices.Max(append([]float64{0}, tt.want...)); got.Peak != want {
				t.Errorf("Peak = %v, want %v", got.Peak, want)
			}
		})
	}
}
