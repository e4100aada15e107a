package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The writer's statements. A commit runs a fixed handful of them however
// many sends it covers, and every one writes sends rows only: the wide
// recipients row is never rewritten (migration 0003). Begins upsert the
// sends rows from one JSON array of lines; the "WHERE true" is SQLite's
// documented way to let an INSERT ... SELECT take an upsert clause.
// Outcomes are bound, fillRows at a time, into an upsert that updates the
// rows their Begins wrote. (A temporary table of outcomes read by an UPDATE
// cost the commits 12-19% more CPU; JSON for the outcomes cost more to
// parse than binding them.)
const (
	sqlBeat  = `UPDATE batches SET lock_beat = ?, updated_at = ? WHERE id = ? AND lock_owner = ?`
	sqlOwned = `SELECT 1 FROM batches WHERE id = ? AND lock_owner = ?`
	sqlLate  = `UPDATE batches SET retried_late = retried_late + ? WHERE id = ?`
	// A row moves to its fallback after its first kind's Begin, so it has a
	// sends row; the fallback's own dedup window starts at its Begin.
	sqlFallback = `UPDATE sends SET kind = ?3, state = 'pending', errcode = ?4, errmsg = ?5, first_attempt_at = NULL,
		done_at = NULL WHERE batch_id = ?1 AND line = ?2`
	sqlBegin = `INSERT INTO sends (batch_id, line, state, attempts, first_attempt_at, last_attempt_at)
		SELECT ?1, value, 'inflight', 1, ?3, ?3 FROM json_each(?2) WHERE true
		ON CONFLICT DO UPDATE SET state = 'inflight', attempts = attempts + 1,
			first_attempt_at = COALESCE(first_attempt_at, excluded.first_attempt_at), last_attempt_at = excluded.last_attempt_at`
)

// fillRows is how many outcomes one upsert binds. A tail of at least
// fillPad rows repeats its last row up to fillRows (writing the same
// outcome twice changes nothing); a shorter one, as a run at low
// concurrency makes, goes row by row. The batch id is bound once, as ?1.
const (
	fillRows = 32
	fillPad  = 8
	fillCols = 7
)

// fillSQL is the upsert of rows outcomes. A row released to pending was
// refused outright: nothing was delivered, so the dedup-window clock starts
// afresh.
func fillSQL(rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO sends (batch_id, line, state, errcode, errmsg, msgid, done_at, openid) VALUES (?1, ?, ?, ?, ?, ?, ?, ?)")
	for range rows - 1 {
		b.WriteString(", (?1, ?, ?, ?, ?, ?, ?, ?)")
	}
	b.WriteString(` ON CONFLICT DO UPDATE SET state = excluded.state, errcode = excluded.errcode, errmsg = excluded.errmsg,
		msgid = excluded.msgid, done_at = excluded.done_at, openid = excluded.openid,
		first_attempt_at = CASE excluded.state WHEN 'pending' THEN NULL ELSE first_attempt_at END`)
	return b.String()
}

// writer is the Ledger's own connection and its prepared statements. The
// connection is pinned, so the temporary table and the statements stay put,
// and transactions are plain BEGIN IMMEDIATE / COMMIT on it: database/sql's
// Tx.StmtContext would re-prepare every statement for every group.
type writer struct {
	conn                          *sql.Conn
	restore                       func() // the connection's own checkpoint threshold (checkpoint.go)
	txBegin, txCommit, txRollback *sql.Stmt
	beat, owned, late             *sql.Stmt
	begin, fill, fill1, fallback  *sql.Stmt

	lines []byte // reused JSON array of the lines to mark inflight
	args  []any  // reused arguments of fill: the batch id, then the outcomes
	one   []any  // reused arguments of fill1
}

func (d *DB) newWriter(ctx context.Context) (*writer, error) {
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	restore, err := setPragmas(ctx, conn, pragma{"wal_autocheckpoint", writerWALPages})
	if err != nil {
		conn.Close()
		return nil, err
	}
	w := &writer{conn: conn, restore: restore, args: make([]any, 1, 1+fillRows*fillCols), one: make([]any, 1+fillCols)}
	for _, p := range []struct {
		dst **sql.Stmt
		q   string
	}{{&w.txBegin, "BEGIN IMMEDIATE"}, {&w.txCommit, "COMMIT"}, {&w.txRollback, "ROLLBACK"},
		{&w.beat, sqlBeat}, {&w.owned, sqlOwned}, {&w.late, sqlLate}, {&w.begin, sqlBegin}, {&w.fill, fillSQL(fillRows)},
		{&w.fill1, fillSQL(1)}, {&w.fallback, sqlFallback}} {
		if *p.dst, err = conn.PrepareContext(ctx, p.q); err != nil {
			w.close()
			return nil, err
		}
	}
	return w, nil
}

func (w *writer) close() {
	for _, st := range []*sql.Stmt{w.txBegin, w.txCommit, w.txRollback, w.beat, w.owned, w.late, w.begin, w.fill, w.fill1, w.fallback} {
		if st != nil {
			st.Close()
		}
	}
	w.restore()
	w.conn.Close()
}

// commit writes group in one transaction that first proves the lock is
// still ours. Acks are sent only after the commit. The proof is a read,
// except on the heartbeat, which writes the time and moves the batch's
// frontier: rewriting the batch's row in every commit added a page to each
// commit's WAL frames.
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
	if beat {
		now := l.d.nowMS()
		res, err := w.beat.ExecContext(ctx, now, now, l.batchID, l.owner)
		if err != nil {
			return fmt.Errorf("ledger: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrLockLost
		}
	} else if len(group) > 0 {
		var one int
		switch err := w.owned.QueryRowContext(ctx, l.batchID, l.owner).Scan(&one); {
		case errors.Is(err, sql.ErrNoRows):
			return ErrLockLost
		case err != nil:
			return fmt.Errorf("ledger: %w", err)
		}
	}
	// Moves to a fallback first: a line's move and the Begin of its
	// fallback may share a group, and the Begin must win.
	for _, op := range group {
		if op.fallback != "" {
			o := op.outcome
			if _, err := w.fallback.ExecContext(ctx, l.batchID, o.Line, op.fallback,
				nullInt(int64(o.Errcode), o.Errcode != 0), nullString(o.Errmsg)); err != nil {
				return fmt.Errorf("ledger: move to the fallback: %w", err)
			}
		}
	}
	if lines, at := w.begins(group); lines != nil {
		// One attempt time for the group: the earliest, so the recorded start
		// of the dedup window is never later than a real send.
		if _, err := w.begin.ExecContext(ctx, l.batchID, lines, at); err != nil {
			return fmt.Errorf("ledger: mark inflight: %w", err)
		}
	}
	late, err := w.outcomes(ctx, l.batchID, group)
	if err != nil {
		return fmt.Errorf("ledger: record outcomes: %w", err)
	}
	if late > 0 {
		if _, err := w.late.ExecContext(ctx, late, l.batchID); err != nil {
			return fmt.Errorf("ledger: count late retries: %w", err)
		}
	}
	if beat {
		if err := advanceFrontier(ctx, w.conn, l.batchID); err != nil {
			return fmt.Errorf("ledger: %w", err)
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

// begins returns the JSON array of the lines group marks inflight, and the
// earliest of their times, or nil. A line appears at most once per group:
// its Finish follows its Begin's commit, and a finished line is not sent
// again in the same run.
func (w *writer) begins(group []ledgerOp) (lines []byte, at int64) {
	for _, op := range group {
		if !op.begin {
			continue
		}
		ms := op.at.UnixMilli()
		if lines == nil {
			lines, at = append(w.lines[:0], '['), ms
		} else {
			lines = append(lines, ',')
			at = min(at, ms)
		}
		lines = strconv.AppendInt(lines, op.line, 10)
	}
	if lines == nil {
		return nil, 0
	}
	w.lines = append(lines, ']')
	return w.lines, at
}

// outcomes records the group's outcomes in the sends rows, and returns how
// many of them end a recipient's late retry.
func (w *writer) outcomes(ctx context.Context, batchID int64, group []ledgerOp) (late int, err error) {
	w.args[0] = batchID
	for _, op := range group {
		if op.begin || op.fallback != "" {
			continue
		}
		o := op.outcome
		if o.Late {
			late++
		}
		w.args = append(w.args, o.Line, o.State, nullInt(int64(o.Errcode), o.Errcode != 0 || o.State == StateFailed),
			nullString(o.Errmsg), nullInt(o.MsgID, o.MsgID != 0), doneAt(o), deliveredTo(o))
		if len(w.args) == 1+fillRows*fillCols {
			if err := w.flush(ctx); err != nil {
				return 0, err
			}
		}
	}
	return late, w.flush(ctx)
}

// flush upserts the bound outcomes, if any.
func (w *writer) flush(ctx context.Context) (err error) {
	defer func() {
		clear(w.args[1:])
		w.args = w.args[:1]
	}()
	rows := w.args[1:]
	if len(rows) < fillPad*fillCols {
		w.one[0] = w.args[0]
		for ; len(rows) > 0 && err == nil; rows = rows[fillCols:] {
			copy(w.one[1:], rows)
			_, err = w.fill1.ExecContext(ctx, w.one...)
		}
		clear(w.one)
		return err
	}
	last := len(w.args) - fillCols
	for len(w.args) < 1+fillRows*fillCols {
		w.args = append(w.args, w.args[last:last+fillCols]...)
	}
	_, err = w.fill.ExecContext(ctx, w.args...)
	return err
}

func nullInt(v int64, valid bool) sql.NullInt64 { return sql.NullInt64{Int64: v, Valid: valid} }

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// deliveredTo is the openid a delivery, or a send that may have been one,
// keeps for the frequency caps' index (migration 0013); other rows keep
// none, and stay narrow.
func deliveredTo(o Outcome) sql.NullString {
	if o.State == StateSent || o.State == StateUnknown {
		return nullString(o.OpenID)
	}
	return sql.NullString{}
}

// doneAt stamps final states; released rows have no completion time.
func doneAt(o Outcome) sql.NullInt64 {
	switch o.State {
	case StateSent, StateFailed, StateUnknown:
		return sql.NullInt64{Int64: o.At.UnixMilli(), Valid: true}
	}
	return sql.NullInt64{}
}
