package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// ErrLockLost is returned by a Ledger whose batch lock was taken over by
// another process: it must stop sending at once.
var ErrLockLost = errors.New("batch lock lost to another process")

// heartbeat is how often a Ledger proves its process is alive.
const heartbeat = 5 * time.Second

// maxGroup bounds how many changes one transaction commits.
const maxGroup = 1024

// Outcome is the result of one recipient's send, recorded by Finish.
type Outcome struct {
	Line int64
	// State is sent, failed or unknown; pending when the recipient goes back
	// unsent (WeChat refused it outright, or no request was made); inflight
	// when a request may have been delivered and the resume rule must decide.
	State   string
	Errcode int
	Errmsg  string
	MsgID   int64
	// Attempts is how many requests this run made for the recipient; they
	// are added to the row's count.
	Attempts int
	// First becomes the row's first_attempt_at, the start of its dedup
	// window: the first request that may have been delivered, or zero when
	// none may have been.
	First time.Time
	// At is when the outcome was known; it is the row's last attempt time
	// when Attempts > 0, and its completion time in a final state.
	At time.Time
	// Untouched marks a claimed recipient handed back before any request was
	// made: only its state and First change, its last error stays.
	Untouched bool
}

type ledgerOp struct {
	claim   []int64 // lines to mark inflight (synchronous) rather than an outcome
	at      time.Time
	outcome Outcome
	ack     chan error // nil for asynchronous outcomes
}

// Ledger is the write side of one batch while it is being sent. A single
// goroutine owns every write and commits whatever has queued up in one
// transaction, so the cost of a commit is shared by all the changes waiting
// on it. Claim returns only once its rows are durably inflight; Finish
// queues the outcome and returns at once (a crash before its commit leaves
// the row inflight, which the resume rule handles).
type Ledger struct {
	d       *DB
	batchID int64
	owner   string

	ops    chan ledgerOp
	closed chan struct{}
	done   chan struct{}
	err    error // first write error; set by the writer before done closes

	w          *writer // owned by the run goroutine
	bbuf, obuf []byte  // reused JSON buffers
}

// OpenLedger starts the writer for batch batchID held by owner. Writes use
// a context detached from ctx's cancellation: outcomes must reach the disk
// even while the run is being interrupted. Close stops it.
func (d *DB) OpenLedger(ctx context.Context, batchID int64, owner string) *Ledger {
	l := &Ledger{d: d, batchID: batchID, owner: owner,
		ops: make(chan ledgerOp, maxGroup), closed: make(chan struct{}), done: make(chan struct{})}
	go l.run(context.WithoutCancel(ctx))
	return l
}

// Claim durably marks lines inflight, with at as the start of their dedup
// window unless a recovered row already has one. It blocks until committed:
// no request for these lines may leave before it returns.
func (l *Ledger) Claim(ctx context.Context, lines []int64, at time.Time) error {
	ack := make(chan error, 1)
	select {
	case l.ops <- ledgerOp{claim: lines, at: at, ack: ack}:
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
	case l.ops <- ledgerOp{outcome: o}:
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
		l.err = fmt.Errorf("ledger: %w", err)
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
		case <-tick.C:
			if err := l.commit(ctx, nil, true); err != nil {
				l.fail(err, nil)
				return
			}
		case <-l.closed:
			// Drain what is queued; nobody sends after Close.
			group = group[:0]
			for len(l.ops) > 0 {
				group = append(group, <-l.ops)
			}
			if len(group) > 0 {
				if err := l.commit(ctx, group, false); err != nil {
					l.fail(err, group)
				}
			}
			return
		}
	}
}

func (l *Ledger) fail(err error, group []ledgerOp) {
	l.err = err
	for _, op := range group {
		if op.ack != nil {
			op.ack <- err
		}
	}
}

// The writer's statements. A group's rows travel as one JSON array, so a
// commit runs a fixed handful of statements however many sends it covers:
// claims become one UPDATE over json_each; outcomes go through a temporary
// table keyed by line and one UPDATE whose correlated lookups use it (both
// plans are primary-key searches; an UPDATE ... FROM json_each made SQLite
// scan the whole batch instead). A recipient's row is written twice in a
// run: claimed, then its outcome; retries in between write nothing.
const (
	sqlBeat  = `UPDATE batches SET lock_beat = ?, updated_at = ? WHERE id = ? AND lock_owner = ?`
	sqlClaim = `UPDATE recipients SET state = 'inflight', first_attempt_at = COALESCE(first_attempt_at, ?3)
		WHERE batch_id = ?1 AND line IN (SELECT value FROM json_each(?2)) AND state = 'pending'`
	sqlOutcomesTable = `CREATE TEMP TABLE IF NOT EXISTS ledger_outcomes (line INTEGER PRIMARY KEY,
		state TEXT, errcode INTEGER, errmsg TEXT, msgid INTEGER, done INTEGER,
		attempts INTEGER, first INTEGER, last INTEGER, untouched INTEGER)`
	sqlOutcomesClear = `DELETE FROM temp.ledger_outcomes`
	sqlOutcomesFill  = `INSERT INTO temp.ledger_outcomes SELECT value->>0, value->>1, value->>2, value->>3, value->>4,
		value->>5, value->>6, value->>7, value->>8, value->>9 FROM json_each(?1)`
	sqlFinish = `UPDATE recipients SET (state, errcode, errmsg, msgid, done_at, attempts, first_attempt_at, last_attempt_at) =
		(SELECT o.state, IIF(o.untouched, recipients.errcode, o.errcode), IIF(o.untouched, recipients.errmsg, o.errmsg),
			o.msgid, o.done, recipients.attempts + o.attempts, o.first, COALESCE(o.last, recipients.last_attempt_at)
		FROM temp.ledger_outcomes o WHERE o.line = recipients.line)
		WHERE batch_id = ?1 AND line IN (SELECT line FROM temp.ledger_outcomes)`
)

// writer is the Ledger's own connection and its prepared statements. The
// connection is pinned, so the temporary table and the statements stay put,
// and transactions are plain BEGIN IMMEDIATE / COMMIT on it: database/sql's
// Tx.StmtContext would re-prepare every statement for every group.
type writer struct {
	conn                             *sql.Conn
	txBegin, txCommit, txRollback    *sql.Stmt
	beat, claim, clear, fill, finish *sql.Stmt
}

func (d *DB) newWriter(ctx context.Context) (*writer, error) {
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, sqlOutcomesTable); err != nil {
		conn.Close()
		return nil, err
	}
	w := &writer{conn: conn}
	for _, p := range []struct {
		dst **sql.Stmt
		q   string
	}{{&w.txBegin, "BEGIN IMMEDIATE"}, {&w.txCommit, "COMMIT"}, {&w.txRollback, "ROLLBACK"},
		{&w.beat, sqlBeat}, {&w.claim, sqlClaim}, {&w.clear, sqlOutcomesClear}, {&w.fill, sqlOutcomesFill},
		{&w.finish, sqlFinish}} {
		if *p.dst, err = conn.PrepareContext(ctx, p.q); err != nil {
			w.close()
			return nil, err
		}
	}
	return w, nil
}

func (w *writer) close() {
	for _, st := range []*sql.Stmt{w.txBegin, w.txCommit, w.txRollback, w.beat, w.claim, w.clear, w.fill, w.finish} {
		if st != nil {
			st.Close()
		}
	}
	w.conn.Close()
}

// commit writes group in one transaction that first proves the lock is
// still ours (one primary-key UPDATE, which is also the heartbeat). Acks are
// sent only after the commit.
func (l *Ledger) commit(ctx context.Context, group []ledgerOp, beat bool) (err error) {
	w := l.w
	if _, err := w.txBegin.ExecContext(ctx); err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	defer func() {
		if err != nil {
			w.txRollback.ExecContext(ctx)
		}
	}()
	if beat || len(group) > 0 {
		now := l.d.nowMS()
		res, err := w.beat.ExecContext(ctx, now, now, l.batchID, l.owner)
		if err != nil {
			return fmt.Errorf("ledger: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrLockLost
		}
	}
	claims, outcomes, at := l.encode(group)
	if claims != nil {
		// One time for the group's claims: the earliest, so the recorded start
		// of a dedup window is never later than a real send.
		if _, err := w.claim.ExecContext(ctx, l.batchID, claims, at); err != nil {
			return fmt.Errorf("ledger: mark inflight: %w", err)
		}
	}
	if outcomes != nil {
		for _, step := range []struct {
			st   *sql.Stmt
			args []any
		}{{st: w.clear}, {st: w.fill, args: []any{outcomes}}, {st: w.finish, args: []any{l.batchID}}} {
			if _, err := step.st.ExecContext(ctx, step.args...); err != nil {
				return fmt.Errorf("ledger: record outcomes: %w", err)
			}
		}
	}
	if _, err := w.txCommit.ExecContext(ctx); err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	for _, op := range group {
		if op.ack != nil {
			op.ack <- nil
		}
	}
	return nil
}

// encode turns a group into the JSON arrays the statements take: the lines
// to mark inflight, and one [line, state, errcode, errmsg, msgid, done,
// attempts, first, last, untouched] per outcome. A line appears at most once
// per group: its outcome follows its claim's commit, and a finished line is
// not sent again in the same run.
func (l *Ledger) encode(group []ledgerOp) (claims, outcomes []byte, at int64) {
	for _, op := range group {
		if op.ack != nil {
			ms := op.at.UnixMilli()
			if claims == nil {
				claims, at = append(l.bbuf[:0], '['), ms
			} else {
				at = min(at, ms)
			}
			for _, line := range op.claim {
				if claims[len(claims)-1] != '[' {
					claims = append(claims, ',')
				}
				claims = strconv.AppendInt(claims, line, 10)
			}
			continue
		}
		if outcomes == nil {
			outcomes = append(l.obuf[:0], '[')
		} else {
			outcomes = append(outcomes, ',')
		}
		outcomes = appendOutcome(outcomes, op.outcome)
	}
	if claims != nil {
		claims = append(claims, ']')
		l.bbuf = claims
	}
	if outcomes != nil {
		outcomes = append(outcomes, ']')
		l.obuf = outcomes
	}
	return claims, outcomes, at
}

// appendOutcome appends o as the JSON array sqlOutcomesFill reads.
func appendOutcome(b []byte, o Outcome) []byte {
	appendInt := func(b []byte, v int64, ok bool) []byte {
		if !ok {
			return append(b, "null,"...)
		}
		return append(strconv.AppendInt(b, v, 10), ',')
	}
	b = append(b, '[')
	b = appendInt(b, o.Line, true)
	b = append(b, '"')
	b = append(b, o.State...) // a state constant: nothing to escape
	b = append(b, `",`...)
	b = appendInt(b, int64(o.Errcode), o.Errcode != 0 || o.State == StateFailed)
	if o.Errmsg != "" {
		msg, _ := json.Marshal(o.Errmsg)
		b = append(append(b, msg...), ',')
	} else {
		b = append(b, "null,"...)
	}
	b = appendInt(b, o.MsgID, o.MsgID != 0)
	done := doneAt(o)
	b = appendInt(b, done.Int64, done.Valid)
	b = appendInt(b, int64(o.Attempts), true)
	b = appendInt(b, o.First.UnixMilli(), !o.First.IsZero())
	b = appendInt(b, o.At.UnixMilli(), o.Attempts > 0)
	if o.Untouched {
		return append(b, "1]"...)
	}
	return append(b, "0]"...)
}

// doneAt stamps final states; released rows have no completion time.
func doneAt(o Outcome) sql.NullInt64 {
	switch o.State {
	case StateSent, StateFailed, StateUnknown:
		return sql.NullInt64{Int64: o.At.UnixMilli(), Valid: true}
	}
	return sql.NullInt64{}
}
