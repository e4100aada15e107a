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

// Outcome is the result of one recipient's send.
type Outcome struct {
	Line    int64
	State   string // sent, failed, unknown, or pending (released unsent) or inflight (left for the resume rule)
	Errcode int
	Errmsg  string
	MsgID   int64
	At      time.Time
}

type ledgerOp struct {
	begin   bool // mark inflight (synchronous) rather than record an outcome
	line    int64
	at      time.Time
	outcome Outcome
	ack     chan error // nil for asynchronous outcomes
}

// Ledger is the write side of one batch while it is being sent. A single
// goroutine owns every write and commits whatever has queued up in one
// transaction, so the cost of a commit is shared by all the sends waiting on
// it. Begin returns only once the row is durably inflight; Finish queues the
// outcome and returns at once (a crash before its commit leaves the row
// inflight, which the resume rule handles).
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

// Begin durably marks line inflight: attempts+1, the attempt time, and the
// first attempt time if this is the first. It blocks until committed.
func (l *Ledger) Begin(ctx context.Context, line int64, at time.Time) error {
	ack := make(chan error, 1)
	select {
	case l.ops <- ledgerOp{begin: true, line: line, at: at, ack: ack}:
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
// begins become one UPDATE over json_each; outcomes go through a temporary
// table keyed by line and one UPDATE whose correlated lookups use it (both
// plans are primary-key searches; an UPDATE ... FROM json_each made SQLite
// scan the whole batch instead).
const (
	sqlBeat  = `UPDATE batches SET lock_beat = ?, updated_at = ? WHERE id = ? AND lock_owner = ?`
	sqlBegin = `UPDATE recipients SET state = 'inflight', attempts = attempts + 1,
		first_attempt_at = COALESCE(first_attempt_at, ?3), last_attempt_at = ?3
		WHERE batch_id = ?1 AND line IN (SELECT value FROM json_each(?2))`
	sqlOutcomesTable = `CREATE TEMP TABLE IF NOT EXISTS ledger_outcomes (line INTEGER PRIMARY KEY,
		state TEXT, errcode INTEGER, errmsg TEXT, msgid INTEGER, done INTEGER)`
	sqlOutcomesClear = `DELETE FROM temp.ledger_outcomes`
	sqlOutcomesFill  = `INSERT INTO temp.ledger_outcomes SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5
		FROM json_each(?1)`
	sqlFinish = `UPDATE recipients SET (state, errcode, errmsg, msgid, done_at) =
		(SELECT state, errcode, errmsg, msgid, done FROM temp.ledger_outcomes o WHERE o.line = recipients.line)
		WHERE batch_id = ?1 AND line IN (SELECT line FROM temp.ledger_outcomes)`
	// A row released to pending was refused outright: nothing was delivered,
	// so the dedup-window clock starts afresh.
	sqlReleased = `UPDATE recipients SET first_attempt_at = NULL
		WHERE batch_id = ?1 AND line IN (SELECT line FROM temp.ledger_outcomes WHERE state = 'pending')`
)

// writer is the Ledger's own connection and its prepared statements. The
// connection is pinned, so the temporary table and the statements stay put,
// and transactions are plain BEGIN IMMEDIATE / COMMIT on it: database/sql's
// Tx.StmtContext would re-prepare every statement for every group.
type writer struct {
	conn                                      *sql.Conn
	txBegin, txCommit, txRollback             *sql.Stmt
	beat, begin, clear, fill, finish, release *sql.Stmt
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
		{&w.beat, sqlBeat}, {&w.begin, sqlBegin}, {&w.clear, sqlOutcomesClear}, {&w.fill, sqlOutcomesFill},
		{&w.finish, sqlFinish}, {&w.release, sqlReleased}} {
		if *p.dst, err = conn.PrepareContext(ctx, p.q); err != nil {
			w.close()
			return nil, err
		}
	}
	return w, nil
}

func (w *writer) close() {
	for _, st := range []*sql.Stmt{w.txBegin, w.txCommit, w.txRollback, w.beat, w.begin, w.clear, w.fill, w.finish, w.release} {
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
	begins, outcomes, released, at := l.encode(group)
	if begins != nil {
		// One attempt time for the group: the earliest, so the recorded start
		// of the dedup window is never later than a real send.
		if _, err := w.begin.ExecContext(ctx, l.batchID, begins, at); err != nil {
			return fmt.Errorf("ledger: mark inflight: %w", err)
		}
	}
	if outcomes != nil {
		for _, step := range []struct {
			st   *sql.Stmt
			args []any
			skip bool
		}{
			{st: w.clear},
			{st: w.fill, args: []any{outcomes}},
			{st: w.finish, args: []any{l.batchID}},
			{st: w.release, args: []any{l.batchID}, skip: !released},
		} {
			if step.skip {
				continue
			}
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
// to mark inflight, and one [line, state, errcode, errmsg, msgid, done] per
// outcome. A line appears at most once per group: its Finish follows its
// Begin's commit, and a finished line is not sent again in the same run.
func (l *Ledger) encode(group []ledgerOp) (begins, outcomes []byte, released bool, at int64) {
	for _, op := range group {
		if op.begin {
			ms := op.at.UnixMilli()
			if begins == nil {
				begins, at = append(l.bbuf[:0], '['), ms
			} else {
				begins = append(begins, ',')
				at = min(at, ms)
			}
			begins = strconv.AppendInt(begins, op.line, 10)
			continue
		}
		o := op.outcome
		if outcomes == nil {
			outcomes = append(l.obuf[:0], '[')
		} else {
			outcomes = append(outcomes, ',')
		}
		outcomes = append(outcomes, '[')
		outcomes = strconv.AppendInt(outcomes, o.Line, 10)
		outcomes = append(outcomes, ",\""...)
		outcomes = append(outcomes, o.State...) // a state constant: nothing to escape
		outcomes = append(outcomes, "\","...)
		if o.Errcode != 0 || o.State == StateFailed {
			outcomes = strconv.AppendInt(outcomes, int64(o.Errcode), 10)
		} else {
			outcomes = append(outcomes, "null"...)
		}
		outcomes = append(outcomes, ',')
		if o.Errmsg != "" {
			msg, _ := json.Marshal(o.Errmsg)
			outcomes = append(outcomes, msg...)
		} else {
			outcomes = append(outcomes, "null"...)
		}
		outcomes = append(outcomes, ',')
		if o.MsgID != 0 {
			outcomes = strconv.AppendInt(outcomes, o.MsgID, 10)
		} else {
			outcomes = append(outcomes, "null"...)
		}
		outcomes = append(outcomes, ',')
		if d := doneAt(o); d.Valid {
			outcomes = strconv.AppendInt(outcomes, d.Int64, 10)
		} else {
			outcomes = append(outcomes, "null"...)
		}
		outcomes = append(outcomes, ']')
		released = released || o.State == StatePending
	}
	if begins != nil {
		begins = append(begins, ']')
		l.bbuf = begins
	}
	if outcomes != nil {
		outcomes = append(outcomes, ']')
		l.obuf = outcomes
	}
	return begins, outcomes, released, at
}

// doneAt stamps final states; released rows have no completion time.
func doneAt(o Outcome) sql.NullInt64 {
	switch o.State {
	case StateSent, StateFailed, StateUnknown:
		return sql.NullInt64{Int64: o.At.UnixMilli(), Valid: true}
	}
	return sql.NullInt64{}
}
