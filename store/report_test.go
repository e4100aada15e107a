package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
)

// mustOpenReportDB opens a database in a temporary directory.
func mustOpenReportDB(tb testing.TB) *DB {
	tb.Helper()
	d, err := Open(context.Background(), filepath.Join(tb.TempDir(), "m.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close() })
	return d
}

// mustImport creates batch name with n recipients on lines 2..n+1, then
// sets the states given by line.
func mustImport(tb testing.TB, d *DB, name string, n int, states map[int64]string) Batch {
	tb.Helper()
	ctx := context.Background()
	b, err := d.CreateBatch(ctx, NewBatch{Name: name, TemplateRef: "t", TemplateBody: []byte(`{}`)}, "1@h")
	if err != nil {
		tb.Fatal(err)
	}
	im, err := d.NewImporter(ctx, b)
	if err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		line := int64(i + 2)
		vars := fmt.Sprintf(`{"name":"n%d","amount":"%d.00"}`, line, line)
		if err := im.Add(ctx, line, fmt.Sprintf("openid-%03d", line), vars); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := im.Finish(ctx); err != nil {
		tb.Fatal(err)
	}
	for line, state := range states {
		q := `INSERT INTO sends (state, batch_id, line) VALUES (?, ?, ?)`
		args := []any{state, b.ID, line}
		switch state {
		case StateFailed:
			q = `INSERT INTO sends (state, batch_id, line, errcode, errmsg, attempts) VALUES (?, ?, ?, 43004, 'require subscribe', 1)`
		case StateSent:
			q = `INSERT INTO sends (state, batch_id, line, msgid, attempts) VALUES (?, ?, ?, 1000 + ?3, 1)`
		}
		if _, err := d.db.Exec(q, args...); err != nil {
			tb.Fatal(err)
		}
	}
	return b
}

func TestDB_Recipients(t *testing.T) {
	d := mustOpenReportDB(t)
	b := mustImport(t, d, "b", 6, map[int64]string{2: StateSent, 3: StateFailed, 5: StateUnknown, 7: StateFailed})
	mustImport(t, d, "other", 3, map[int64]string{2: StateFailed})

	tests := []struct {
		name   string
		states []string
		stop   int // return SkipRest after this many rows; 0 never
		want   []int64
	}{
		{name: "All", want: []int64{2, 3, 4, 5, 6, 7}},
		{name: "FailedAndUnknown", states: []string{StateFailed, StateUnknown}, want: []int64{3, 5, 7}},
		{name: "One", states: []string{StateSent}, want: []int64{2}},
		{name: "None", states: []string{StateInflight}},
		{name: "SkipRest", states: []string{StateFailed, StateUnknown}, stop: 2, want: []int64{3, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []int64
			err := d.Recipients(context.Background(), b.ID, tt.states, func(r Recipient) error {
				got = append(got, r.Line)
				if len(got) == tt.stop {
					return SkipRest
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("lines %v; want %v", got, tt.want)
			}
		})
	}

	t.Run("Fields", func(t *testing.T) {
		got := map[int64]Recipient{}
		if err := d.Recipients(context.Background(), b.ID, nil, func(r Recipient) error {
			got[r.Line] = r
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if r := got[3]; r.OpenID != "openid-003" || r.Errcode != 43004 || r.Errmsg != "require subscribe" || r.Attempts != 1 ||
			string(r.Vars) != `{"name":"n3","amount":"3.00"}` || r.ClientMsgID != ClientMsgID(b.Nonce, 3) {
			t.Errorf("failed row: %+v", r)
		}
		if r := got[2]; r.State != StateSent || r.MsgID != 1002 || r.Errcode != 0 || r.Errmsg != "" {
			t.Errorf("sent row: %+v", r)
		}
		if r := got[4]; r.State != StatePending || r.MsgID != 0 || !r.DoneAt.IsZero() {
			t.Errorf("pending row: %+v", r)
		}
	})

	t.Run("Error", func(t *testing.T) {
		boom := errors.New("boom")
		n := 0
		err := d.Recipients(context.Background(), b.ID, nil, func(Recipient) error { n++; return boom })
		if !errors.Is(err, boom) || n != 1 {
			t.Errorf("err %v after %d rows; want boom after 1", err, n)
		}
	})
}

func TestDB_CountsByBatch(t *testing.T) {
	d := mustOpenReportDB(t)
	b1 := mustImport(t, d, "b1", 5, map[int64]string{2: StateSent, 3: StateFailed, 4: StateUnknown})
	b2 := mustImport(t, d, "b2", 2, map[int64]string{2: StateSent, 3: StateSent})
	// b3's import is under way: three rows committed, the total not yet set.
	b3 := mustImport(t, d, "b3", 3, nil)
	if _, err := d.db.Exec(`UPDATE batches SET status = ?, total = 0 WHERE id = ?`, StatusImporting, b3.ID); err != nil {
		t.Fatal(err)
	}
	mustImport(t, d, "empty", 0, nil)
	got, err := d.CountsByBatch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]Counts{
		b1.ID: {Sent: 1, Failed: 1, Unknown: 1, Pending: 2},
		b2.ID: {Sent: 2},
		b3.ID: {Pending: 3},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v; want %+v", got, want)
	}
	for id, c := range got {
		single, err := d.Counts(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if single != c {
			t.Errorf("batch %d: CountsByBatch %+v, Counts %+v", id, c, single)
		}
	}
}
