package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func importN(t *testing.T, db *DB, n int) Batch {
	t.Helper()
	ctx := t.Context()
	b, err := db.CreateBatch(ctx, NewBatch{Name: "b"}, "1@h")
	if err != nil {
		t.Fatal(err)
	}
	im, _ := db.NewImporter(ctx, b)
	for i := range n {
		if err := im.Add(ctx, int64(i+2), fmt.Sprintf("o%027d", i), []byte(`{}`)); err != nil {
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
		first_attempt_at IS NULL, done_at IS NULL FROM recipients WHERE batch_id = ?`, b.ID)
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
