package campaign

import (
	"context"
	"fmt"
	"time"

	"github.com/megasend/megasend/store"
)

// Submit creates the batch spec describes, as Create does, and hands it to
// the service's runner of its account, to be sent from sendAt (zero: now).
// The same request again (same name and content) returns the same batch,
// with Created false, and changes nothing; a batch left importing by a
// process that was killed is imported again and handed over. A batch whose
// import was cut short is not kept: its request was never answered. The
// batch comes back unlocked: the runner takes it.
func (s *Service) Submit(ctx context.Context, spec Spec, sendAt time.Time) (*Batch, *Imported, error) {
	// A batch this process holds already is being sent by its runner: the
	// lock is re-entrant, so Create takes it again, and releasing it here
	// would free the batch mid-run for another process to take.
	runnersLock, err := s.holds(ctx, spec.Name)
	if err != nil {
		return nil, nil, err
	}
	spec.Schedule = &store.Schedule{NotBefore: sendAt}
	b, imp, err := s.Create(ctx, spec)
	if ErrorCode(err) == Stopped && b != nil {
		if _, derr := s.DropUnsent(context.WithoutCancel(ctx), b); derr != nil {
			return nil, imp, derr
		}
		return nil, imp, err
	}
	if err != nil {
		return nil, imp, err
	}
	// Released before the runner hears of it: the runner locks it as this
	// same process, and a later release would take the lock from under it.
	if !runnersLock {
		if err := s.Release(ctx, b); err != nil {
			return nil, imp, err
		}
	}
	// A batch this request imported goes to the runner, scheduled by
	// Create before its import: a new one, or one whose import a killed
	// process left unfinished (its request was never answered; this is
	// that request again). A batch found whole is left as it is: given
	// already, or the CLI's.
	if b.Created || imp != nil {
		s.wake(b.Account)
	}
	return b, imp, nil
}

// Pause stops batch name if the service is sending it, and holds it until
// it is continued. A batch the service was not given is held too, so that
// a later Continue is what sends it. Errors: NotFound, Conflict (done:
// nothing to pause), Locked (another process is sending it).
func (s *Service) Pause(ctx context.Context, name string) error {
	b, err := s.Find(ctx, name)
	if err != nil {
		return err
	}
	if b.Status == store.StatusDone {
		return &Error{Code: Conflict, Field: "batch", Msg: fmt.Sprintf("batch %s is done: nothing to pause", name)}
	}
	// The hold first: a runner about to take the batch up sees it once it
	// holds the batch's lock (Runner.runOne).
	if err := s.db.SetSchedule(ctx, b.ID, store.Schedule{Hold: ErrPausedByRequest.Error()}); err != nil {
		return err
	}
	if r := s.runner(b.Account); r != nil && r.stopBatch(name, ErrPausedByRequest) {
		return nil // the runner records the pause once in-flight sends are recorded
	}
	if b.Status == store.StatusRunning && b.LockOwner != s.owner && !s.db.Abandoned(b, s.owner) {
		return s.lock(ctx, b) // another process sends it: Locked, saying which
	}
	if b.Status == store.StatusReady || b.Status == store.StatusRunning {
		return s.db.SetStatus(ctx, b.ID, store.StatusPaused, ErrPausedByRequest.Error())
	}
	return nil
}

// Cancel stops batch name for good: what is still to be sent is skipped
// ("cancelled"), what was sent stays sent, and the batch is done once no
// request of it is in flight. If the service is sending it, the runner
// stops it and skips the rest once its in-flight sends are recorded.
// Errors: NotFound, Conflict (done: nothing to cancel), Invalid (still
// importing), Locked (another process is sending it).
func (s *Service) Cancel(ctx context.Context, name string) error {
	b, err := s.Find(ctx, name)
	if err != nil {
		return err
	}
	switch b.Status {
	case store.StatusDone:
		return &Error{Code: Conflict, Field: "batch", Msg: fmt.Sprintf("batch %s is done: nothing to cancel", name)}
	case store.StatusImporting:
		return Errorf(Invalid, "batch %s has not finished importing", name)
	}
	if err := s.db.SetSchedule(ctx, b.ID, store.Schedule{Hold: ErrCancelled.Error()}); err != nil {
		return err
	}
	if r := s.runner(b.Account); r != nil && r.stopBatch(name, ErrCancelled) {
		return nil
	}
	if err := s.lock(ctx, b); err != nil {
		return err
	}
	defer s.db.Unlock(context.WithoutCancel(ctx), b.ID, s.owner)
	return s.skipRest(ctx, b)
}

// skipRest skips what batch b has still to send and settles its status:
// done, or paused while requests of a dead run may be in flight (the
// resume rule decides those).
func (s *Service) skipRest(ctx context.Context, b store.Batch) error {
	n, err := s.db.SkipPending(ctx, b.ID, ErrCancelled.Error())
	if err != nil {
		return err
	}
	s.log.Info("batch cancelled", "batch", b.Name, "skipped", n)
	c, err := s.db.Counts(ctx, b.ID)
	if err != nil {
		return err
	}
	if c.Inflight > 0 {
		return s.db.SetStatus(ctx, b.ID, store.StatusPaused,
			fmt.Sprintf("%s; %d in flight from a run that stopped: a resume settles them", ErrCancelled, c.Inflight))
	}
	return s.db.SetStatus(ctx, b.ID, store.StatusDone, "")
}

// Continue hands batch name to the service's runner to send now: a batch
// paused by request or by a stop a person had to look at, a batch the CLI
// created. Errors: NotFound, Conflict (done: nothing left to send; retry
// requeues failures), Invalid (still importing).
func (s *Service) Continue(ctx context.Context, name string) error {
	b, err := s.Find(ctx, name)
	if err != nil {
		return err
	}
	switch b.Status {
	case store.StatusDone:
		return &Error{Code: Conflict, Field: "batch", Msg: fmt.Sprintf("batch %s is done: nothing left to send (retry requeues its failures)", name)}
	case store.StatusImporting:
		return Errorf(Invalid, "batch %s has not finished importing", name)
	}
	if err := s.db.SetSchedule(ctx, b.ID, store.Schedule{}); err != nil {
		return err
	}
	s.wake(b.Account)
	return nil
}

// Retry requeues the recipients of batch name that sel chooses and hands
// the batch to the runner, as Continue does. It returns how many it
// requeued; none is not an error, and sends nothing.
func (s *Service) Retry(ctx context.Context, name string, sel Selection) (int64, error) {
	b, err := s.Find(ctx, name)
	if err != nil {
		return 0, err
	}
	held, err := s.holds(ctx, name)
	if err != nil {
		return 0, err
	}
	n, err := s.Requeue(ctx, b, sel)
	if err != nil || n == 0 {
		return n, err
	}
	// Requeue keeps the lock it took for the resume that follows; here the
	// runner resumes, so it goes, unless it was the runner's already (see
	// Submit).
	if !held {
		if err := s.db.Unlock(context.WithoutCancel(ctx), b.ID, s.owner); err != nil {
			return n, err
		}
	}
	return n, s.Continue(ctx, name)
}

// Schedule returns what the service waits for before it sends batch b, and
// false if it was not given the batch.
func (s *Service) Schedule(ctx context.Context, b store.Batch) (store.Schedule, bool, error) {
	return s.db.BatchSchedule(ctx, b.ID)
}

func (s *Service) runner(account string) *Runner {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.runners[account]
}

func (s *Service) wake(account string) {
	if r := s.runner(account); r != nil {
		r.Wake()
	}
}
