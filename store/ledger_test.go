package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// newImport creates batch "b" and starts its import.
func newImport(t *testing.T, db *DB) (Batch, *Importer) {
	t.Helper()
	b, err := db.CreateBatch(t.Context(), NewBatch{Name: "b"}, "1@h")
	if err != nil {
		t.Fatal(err)
	}
	im, err := db.NewImporter(t.Context(), b)
	if err != nil {
		t.Fatal(err)
	}
	return b, im
}

func importN(t *testing.T, db *DB, n int) Batch {
	t.Helper()
	ctx := t.Context()
	b, im := newImport(t, db)
	for i := range n {
		if err := im.Add(ctx, int64(i+2), fmt.Sprintf("o%027d", i), `{}`); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := im.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLedger_BeginFinish(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	b := importN(t, db, 200)
	l := db.OpenLedger(ctx, b.ID, "1@h")
	start := time.UnixMilli(time.Now().UnixMilli())
	const bigMsgID = 3557254367693782077 // above 2^53: must survive the JSON path exactly
	var wg sync.WaitGroup
	for i := range 200 {
		line := int64(i + 2)
		wg.Go(func() {
			if err := l.Begin(ctx, line, start); err != nil {
				t.Error(err)
				return
			}
			switch line % 4 {
			case 0:
				l.Finish(Outcome{Line: line, State: StateSent, MsgID: bigMsgID + line, At: start})
			case 1:
				l.Finish(Outcome{Line: line, State: StateFailed, Errcode: 43004, Errmsg: `require "subscribe" 需要 rid: 1-2-3`, At: start})
			case 2:
				l.Finish(Outcome{Line: line, State: StatePending, Errcode: 45009, Errmsg: "quota", At: start})
			case 3: // left inflight, as after an ambiguous answer at a stop
			}
		})
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	c, err := db.Counts(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Sent != 50 || c.Failed != 50 || c.Pending != 50 || c.Inflight != 50 {
		t.Errorf("counts %+v, want 50 of each", c)
	}
	rows, err := db.db.Query(`SELECT line, state, COALESCE(errcode, 0), COALESCE(errmsg, ''), COALESCE(msgid, 0), attempts,
		first_attempt_at IS NULL, done_at IS NULL FROM recipients_now WHERE batch_id = ?`, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			line, msgid             int64
			state, errmsg           string
			errcode, attempts       int
			firstIsNull, doneIsNull bool
		)
		if err := rows.Scan(&line, &state, &errcode, &errmsg, &msgid, &attempts, &firstIsNull, &doneIsNull); err != nil {
			t.Fatal(err)
		}
		if attempts != 1 {
			t.Errorf("line %d: attempts %d", line, attempts)
		}
		switch state {
		case StateSent:
			if msgid != bigMsgID+line || doneIsNull || errcode != 0 {
				t.Errorf("line %d sent: msgid %d, done null %v, errcode %d", line, msgid, doneIsNull, errcode)
			}
		case StateFailed:
			if errcode != 43004 || errmsg != `require "subscribe" 需要 rid: 1-2-3` || doneIsNull {
				t.Errorf("line %d failed: %d %q", line, errcode, errmsg)
			}
		case StatePending:
			if !firstIsNull || !doneIsNull || errcode != 45009 {
				t.Errorf("line %d released: first_attempt_at null %v, errcode %d", line, firstIsNull, errcode)
			}
		case StateInflight:
			if firstIsNull {
				t.Errorf("line %d inflight without its first attempt time", line)
			}
		}
	}
}

// A ledger whose lock another process took over stops at its next write.
func TestLedger_LockLost(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	b := importN(t, db, 3)
	l := db.OpenLedger(ctx, b.ID, "1@h")
	if err := l.Begin(ctx, 2, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.db.Exec(`UPDATE batches SET lock_owner = '2@other' WHERE id = ?`, b.ID); err != nil {
		t.Fatal(err)
	}
	if err := l.Begin(ctx, 3, time.Now()); !errors.Is(err, ErrLockLost) {
		t.Errorf("Begin after takeover = %v, want ErrLockLost", err)
	}
	if err := l.Close(); !errors.Is(err, ErrLockLost) {
		t.Errorf("Close = %v, want ErrLockLost", err)
	}
}

// A run that dies between a send's Begin and its outcome leaves the send
// inflight. Readers must see it inflight at once, and the next run's
// RecoverInflight must apply the resume rule to it, attempts and first
// attempt time included.
func TestLedger_CrashLeavesInflight(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	b := importN(t, db, 6)
	l := db.OpenLedger(ctx, b.ID, "1@h")
	t.Cleanup(func() { l.Close() })
	old := time.UnixMilli(time.Now().Add(-time.Hour).UnixMilli())
	recent := time.UnixMilli(time.Now().UnixMilli())
	for _, s := range []struct {
		line int64
		at   time.Time
	}{{2, old}, {3, recent}, {3, recent.Add(time.Second)}, {4, recent}} {
		if err := l.Begin(ctx, s.line, s.at); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Begin(ctx, 5, recent); err != nil {
		t.Fatal(err)
	}
	l.Finish(Outcome{Line: 5, State: StateSent, MsgID: 7, At: recent})
	// The crash: nothing more is written. Wait for line 5's outcome by
	// committing one more Begin after it.
	if err := l.Begin(ctx, 6, recent); err != nil {
		t.Fatal(err)
	}

	c, err := db.Counts(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Counts{Inflight: 4, Sent: 1, Pending: 1}); c != want {
		t.Errorf("counts mid-run %+v, want %+v", c, want)
	}
	got := map[int64]Recipient{}
	if err := db.Recipients(ctx, b.ID, []string{StateInflight}, func(r Recipient) error {
		got[r.Line] = r
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got[3].Attempts != 2 || !got[3].FirstAttemptAt.Equal(recent) ||
		!got[3].LastAttemptAt.Equal(recent.Add(time.Second)) || !got[2].FirstAttemptAt.Equal(old) {
		t.Errorf("inflight recipients mid-run: %+v", got)
	}

	resend, unknown, err := db.RecoverInflight(ctx, b.ID, recent.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if resend != 3 || unknown != 1 {
		t.Errorf("recovered %d to resend and %d unknown, want 3 and 1", resend, unknown)
	}
	var inflight int
	if err := db.db.QueryRow(`SELECT COUNT(*) FROM sends WHERE batch_id = ? AND state = 'inflight'`, b.ID).Scan(&inflight); err != nil {
		t.Fatal(err)
	}
	if inflight != 0 {
		t.Errorf("%d rows left inflight after the recovery", inflight)
	}
	rows, err := db.Pending(ctx, b.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var lines []int64
	for _, r := range rows {
		lines = append(lines, r.Line)
		if r.Line == 3 && (r.Attempts != 2 || !r.FirstAttemptAt.Equal(recent)) {
			t.Errorf("line 3 to resend: attempts %d, first attempt %v; want 2 and %v", r.Attempts, r.FirstAttemptAt, recent)
		}
	}
	if fmt.Sprint(lines) != "[3 4 6 7]" {
		t.Errorf("pending after recovery: lines %v, want [3 4 6 7]", lines)
	}
	c, err = db.Counts(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Counts{Pending: 4, Sent: 1, Unknown: 1}); c != want {
		t.Errorf("counts after recovery %+v, want %+v", c, want)
	}
}

// Outcomes of late retries (sender's end-of-run pass) are counted in the
// batch, over all its runs, whatever their state; other outcomes are not.
func TestLedger_RetriedLate(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	b := importN(t, db, 10)
	for run, outcomes := range [][]Outcome{
		{{Line: 2, State: StateSent, MsgID: 1, Late: true}, {Line: 3, State: StateFailed, Errcode: -1, Late: true},
			{Line: 4, State: StateSent, MsgID: 2}, {Line: 5, State: StatePending, Errcode: -1}},
		{{Line: 5, State: StateUnknown, Errcode: -1, Late: true}, {Line: 6, State: StateSent, MsgID: 3}},
	} {
		l := db.OpenLedger(ctx, b.ID, "1@h")
		for _, o := range outcomes {
			if err := l.Begin(ctx, o.Line, time.Now()); err != nil {
				t.Fatal(err)
			}
			o.At = time.Now()
			l.Finish(o)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		c, err := db.Counts(ctx, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := int64(2 + run); c.RetriedLate != want || c.Total() != 10 {
			t.Errorf("run %d: counts %+v, want %d retried late of 10", run+1, c, want)
		}
	}
	all, err := db.CountsByBatch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c := all[b.ID]; c.RetriedLate != 3 || c.Sent != 3 || c.Failed != 1 || c.Unknown != 1 {
		t.Errorf("CountsByBatch: %+v, want 3 retried late, 3 sent, 1 failed, 1 unknown", c)
	}
	// The count beside the states is no disagreement between rows and counts.
	if a, err := db.Audit(ctx, b.ID); err != nil || a.Counts.RetriedLate != 3 {
		t.Errorf("Audit: %+v, %v; want the counts with 3 retried late", a, err)
	}
}
