package store

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"
)

// ErrLockLost is returned by a Ledger whose batch lock was taken over by
// another process: it must stop sending at once.
var ErrLockLost = errors.New("batch lock lost to another process")

// heartbeat is how often a Ledger proves its process is alive.
const heartbeat = 5 * time.Second

// maxGroup bounds how many changes one transaction commits.
const maxGroup = 1024

// Outcome is the result of one recipient's send.
type Outcome struct {
	Line    int64
	State   string // sent, failed, unknown, or pending (released unsent) or inflight (left for the resume rule)
	Errcode int
	Errmsg  string
	MsgID   int64
	At      time.Time
	// OpenID is who the send was for. The ledger keeps it with a delivery
	// (sent or unknown), where frequency caps find it (DeliveredTo).
	OpenID string
	// Late marks the outcome of a recipient's end-of-run try, after its
	// transient budget ran out: the batch counts them (Counts.RetriedLate).
	Late bool
}

type ledgerOp struct {
	begin bool // mark inflight (synchronous) rather than record an outcome
	// fallback, if set, moves line to this kind (synchronous): see Fallback.
	fallback string
	line     int64
	at       time.Time
	outcome  Outcome
	ack      chan error // nil for asynchronous outcomes
}

// Ledger is the write side of one batch while it is being sent. A single
// goroutine owns every write and commits whatever has queued up in one
// transaction, so the cost of a commit is shared by all the sends waiting on
// it. Begin returns only once the row is durably inflight; Finish queues the
// outcome and returns at once (a crash before its commit leaves the row
// inflight, which the resume rule handles).
//
// Every write goes to the batch's sends rows (migration 0003); readers see
// them joined to the recipients in the recipients_now view.
type Ledger struct {
	d       *DB
	batchID int64
	owner   string

	ops    chan ledgerOp
	closed chan struct{}
	done   chan struct{}
	err    error // first write error; set by the writer before done closes

	kick      chan struct{} // a commit happened: the WAL has pages to copy back
	ckptsDone chan struct{}

	w *writer // owned by the run goroutine
}

// OpenLedger starts the writer for batch batchID held by owner. Writes use
// a context detached from ctx's cancellation: outcomes must reach the disk
// even while the run is being interrupted. Close stops it.
func (d *DB) OpenLedger(ctx context.Context, batchID int64, owner string) *Ledger {
	l := &Ledger{d: d, batchID: batchID, owner: owner,
		ops: make(chan ledgerOp, maxGroup), closed: make(chan struct{}), done: make(chan struct{}),
		kick: make(chan struct{}, 1), ckptsDone: make(chan struct{})}
	ctx = context.WithoutCancel(ctx)
	go l.run(ctx)
	go d.checkpoints(ctx, l.kick, l.done, l.ckptsDone)
	return l
}

// Begin durably marks line inflight: attempts+1, the attempt time, and the
// first attempt time if this is the first. It blocks until committed.
func (l *Ledger) Begin(ctx context.Context, line int64, at time.Time) error {
	return l.await(ctx, ledgerOp{begin: true, line: line, at: at})
}

// Fallback durably moves line to the batch's fallback, of kind kind, and
// back to pending, keeping why (code, msg) until the fallback's outcome: the
// first kind of message could not reach the recipient (a customer-service
// message answered 45015 or 45047). It blocks until committed, so the
// fallback is never sent before the move is on disk, and a resume never
// sends the first kind again: it finds the row pending with its Kind set.
func (l *Ledger) Fallback(ctx context.Context, line int64, kind string, code int, msg string) error {
	return l.await(ctx, ledgerOp{fallback: kind, line: line, outcome: Outcome{Line: line, Errcode: code, Errmsg: msg}})
}

// await hands op to the writer and blocks until it is committed.
func (l *Ledger) await(ctx context.Context, op ledgerOp) error {
	ack := make(chan error, 1)
	op.ack = ack
	select {
	case l.ops <- op:
	case <-l.done:
		return l.failure()
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	select {
	case err := <-ack:
		return err
	case <-l.done:
		return l.failure()
	}
}

// Finish queues an outcome. Write errors surface from later calls and Close.
func (l *Ledger) Finish(o Outcome) {
	select {
	case l.ops <- ledgerOp{line: o.Line, outcome: o}:
	case <-l.done:
	}
}

// Close commits everything queued and stops the writer. It returns the
// first write error, if any.
func (l *Ledger) Close() error {
	select {
	case <-l.closed:
	default:
		close(l.closed)
	}
	<-l.done
	<-l.ckptsDone
	return l.err
}

func (l *Ledger) failure() error {
	if l.err != nil {
		return l.err
	}
	return errors.New("ledger closed")
}

func (l *Ledger) run(ctx context.Context) {
	defer close(l.done)
	w, err := l.d.newWriter(ctx)
	if err != nil {
		l.err = corrupt(l.d.path, fmt.Errorf("ledger: %w", err))
		return
	}
	defer w.close()
	l.w = w
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	group := make([]ledgerOp, 0, maxGroup)
	for {
		select {
		case op := <-l.ops:
			group = append(group[:0], op)
			// Let the goroutines that are ready to run queue their writes
			// first: under load the group grows (a quarter fewer commits at
			// zero latency), and with nothing else runnable it costs nothing.
			runtime.Gosched()
		collect:
			for len(group) < maxGroup {
				select {
				case op := <-l.ops:
					group = append(group, op)
				default:
					break collect
				}
			}
			if err := l.commit(ctx, group, false); err != nil {
				l.fail(err, group)
				return
			}
			select {
			case l.kick <- struct{}{}:
			default:
			}
		case <-tick.C:
			if err := l.commit(ctx, nil, true); err != nil {
				l.fail(err, nil)
				return
			}
		case <-l.closed:
			// Drain what is queued; nobody sends after Close. The last
			// commit also moves the frontier, so a resume starts at once.
			group = group[:0]
			for len(l.ops) > 0 {
				group = append(group, <-l.ops)
			}
			if err := l.commit(ctx, group, true); err != nil {
				l.fail(err, group)
			}
			return
		}
	}
}

// fail ends the writer on err. A damaged file is a *CorruptError: the run
// must stop rather than write on (writing more into a damaged b-tree can
// only spread the damage), and the caller must say so.
func (l *Ledger) fail(err error, group []ledgerOp) {
	err = corrupt(l.d.path, err)
	l.err = err
	for _, op := range group {
		if op.ack != nil {
			op.ack <- err
		}
	}
}
