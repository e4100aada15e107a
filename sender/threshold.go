package sender

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// Threshold is --max-errors: either a count of failed recipients in one run
// ("50") or a failure percentage over the last recentWindow outcomes
// ("5%"). The zero Threshold never trips; "0" trips on the first failure.
type Threshold struct {
	set     bool
	Count   int     // pause once more than Count recipients failed in this run
	Percent float64 // pause once more than Percent % of the recent outcomes failed
}

// recentWindow is the sliding window a percentage threshold looks at, and
// minOutcomes how many outcomes it needs before it can trip: five failures
// among the first ten recipients are noise, not a rate.
const (
	recentWindow = 200
	minOutcomes  = 50
)

// ParseThreshold parses "N" or "P%".
func ParseThreshold(s string) (Threshold, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Threshold{}, nil
	}
	if p, ok := strings.CutSuffix(s, "%"); ok {
		f, err := strconv.ParseFloat(p, 64)
		if err != nil || f <= 0 || f > 100 {
			return Threshold{}, fmt.Errorf("max errors %q: want a percentage in (0, 100]", s)
		}
		return Threshold{set: true, Percent: f}, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return Threshold{}, fmt.Errorf("max errors %q: want a count (50) or a percentage (5%%)", s)
	}
	return Threshold{set: true, Count: n}, nil
}

func (t Threshold) String() string {
	if t.Percent > 0 {
		return strconv.FormatFloat(t.Percent, 'f', -1, 64) + "%"
	}
	return strconv.Itoa(t.Count)
}

func (t Threshold) zero() bool { return !t.set }

// errorWindow tracks failures against a Threshold.
type errorWindow struct {
	t Threshold

	mu       sync.Mutex
	failures int
	ring     [recentWindow]bool
	pos, n   int
	inRing   int
}

func newErrorWindow(t Threshold) *errorWindow { return &errorWindow{t: t} }

// add records one outcome and reports whether the threshold is now exceeded.
func (w *errorWindow) add(failed bool) bool {
	if w.t.zero() {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if failed {
		w.failures++
	}
	if w.ring[w.pos] {
		w.inRing--
	}
	w.ring[w.pos] = failed
	if failed {
		w.inRing++
	}
	w.pos = (w.pos + 1) % recentWindow
	w.n = min(w.n+1, recentWindow)
	if w.t.Percent == 0 {
		return w.failures > w.t.Count
	}
	return w.n >= minOutcomes && float64(w.inRing)*100 > w.t.Percent*float64(w.n)
}
