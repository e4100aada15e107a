package sender

import (
	"context"
	"time"

	"github.com/megasend/megasend/store"
)

// pageSize is how many pending recipients one read of the ledger returns.
const pageSize = 512

// dispatcher hands jobs to the workers: retries as they fall due first,
// then the batch's pending recipients in line order, and at the end the
// recipients whose transient budget ran out, once more. Workers hand every
// job back with their verdict. It is owned by Run's goroutine.
type dispatcher struct {
	e    *Engine
	work chan<- *job
	back <-chan *job

	fresh     []store.Recipient // the page being handed out
	after     int64             // the last line read from the ledger
	exhausted bool              // the ledger has no pending line after it

	retries  retryHeap
	later    []*job // budget spent: tried once more at the end of the run
	held     int    // handed back because the run is stopping
	busy     int    // jobs out with the workers
	refused  bool   // the last answer was a refused connection
	lateDone bool   // the end-of-run pass has begun
}

// maxWaiting bounds how many recipients may wait for a retry before the
// dispatcher stops taking new ones: under a storm of errors the batch does
// not spread its attempts over every recipient it has, and memory stays
// bounded. It is far above what a steady share of errors keeps waiting
// (at 2,000 msgs/s with 20% -1, about 300).
func (e *Engine) maxWaiting() int { return max(1024, 16*e.cfg.Concurrency) }

// run dispatches until every job is done or the run stops. It returns an
// error only if the ledger could not be read.
func (d *dispatcher) run(ctx context.Context) error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if err := d.refill(ctx); err != nil {
			return err
		}
		next, wait := d.next(time.Now())
		if next == nil && wait < 0 && d.busy == 0 {
			if d.startLatePass() {
				continue
			}
			return nil // nothing left, nothing out
		}
		var out chan<- *job
		if next != nil {
			out = d.work
		}
		var due <-chan time.Time
		if next == nil && wait >= 0 {
			timer.Reset(wait)
			due = timer.C
		}
		select {
		case out <- next:
			d.take(next)
			d.busy++
		case j := <-d.back:
			d.busy--
			d.settle(j)
		case <-due:
		case <-ctx.Done():
			return nil
		}
	}
}

// freshAllowed reports whether a recipient not yet tried may go out. Not
// while too many wait for a retry, and not while WeChat cannot be
// connected to: the recipients already in play find out whether that lasts
// (and stop the batch if it does), without every pending row being tried.
func (d *dispatcher) freshAllowed() bool {
	if d.retries.Len() >= d.e.maxWaiting() {
		return false
	}
	return !d.refused || d.retries.Len() == 0 && d.busy == 0
}

// refill reads the next page of pending recipients when one is wanted.
func (d *dispatcher) refill(ctx context.Context) error {
	if len(d.fresh) > 0 || d.exhausted || !d.freshAllowed() {
		return nil
	}
	rows, err := d.e.source.Pending(ctx, d.e.cfg.BatchID, d.after, pageSize)
	if err != nil {
		if ctx.Err() != nil {
			d.exhausted = true
			return nil
		}
		return err
	}
	d.fresh = rows
	if len(rows) > 0 {
		d.after = rows[len(rows)-1].Line
	}
	d.exhausted = len(rows) < pageSize
	return nil
}

// next returns the job to hand out now, or nil and how long until a retry
// falls due (negative: none is waiting).
func (d *dispatcher) next(now time.Time) (*job, time.Duration) {
	wait := time.Duration(-1)
	if j := d.retries.peek(); j != nil {
		if !j.due.After(now) {
			return j, 0
		}
		wait = j.due.Sub(now)
	}
	if len(d.fresh) > 0 && d.freshAllowed() {
		return newJob(d.fresh[0]), 0
	}
	return nil, wait
}

// take removes the job next returned from where it came from.
func (d *dispatcher) take(j *job) {
	if d.retries.peek() == j {
		d.retries.pop()
		return
	}
	d.fresh[0] = store.Recipient{} // let the page's memory go as it empties
	d.fresh = d.fresh[1:]
}

// settle files a job a worker handed back.
func (d *dispatcher) settle(j *job) {
	if j.verdict != verdictHold {
		d.refused = j.refused
	}
	switch j.verdict {
	case verdictRetry:
		d.retries.push(j)
	case verdictLater:
		d.later = append(d.later, j)
	case verdictHold:
		d.held++
	}
}

// startLatePass queues the recipients set aside for the end of the run,
// once. It reports whether there were any.
func (d *dispatcher) startLatePass() bool {
	if d.lateDone || len(d.later) == 0 {
		return false
	}
	d.lateDone = true
	now := time.Now()
	for _, j := range d.later {
		j.late, j.due = true, now
		d.retries.push(j)
	}
	d.later = nil
	return true
}

// unfinished collects the jobs the workers hand back after the loop
// stopped, until workersDone closes, and returns how many recipients the
// run leaves unfinished: those handed back, waiting for a retry, or set
// aside for the end. Each is already as the ledger should keep it: pending,
// or inflight if an attempt may have been delivered.
func (d *dispatcher) unfinished(workersDone <-chan struct{}) int {
	for {
		select {
		case j := <-d.back:
			d.busy--
			d.settle(j)
		case <-workersDone:
			for len(d.back) > 0 {
				d.busy--
				d.settle(<-d.back)
			}
			return d.held + d.retries.Len() + len(d.later)
		}
	}
}
