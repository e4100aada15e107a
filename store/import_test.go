package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

func mustOpen(tb testing.TB) *DB {
	tb.Helper()
	db, err := Open(context.Background(), filepath.Join(tb.TempDir(), "megasend.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// Imports of every size around the statement and chunk boundaries keep every
// row, in order, and mark repeated openids skipped, keeping the first.
func TestImporter_Finish(t *testing.T) {
	for _, tt := range []struct {
		name    string
		n       int
		dupEach int // every dupEach-th row repeats the openid of row 0; 0 for none
	}{
		{name: "One", n: 1},
		{name: "UnderOneStatement", n: insertRows - 1},
		{name: "ExactlyOneStatement", n: insertRows},
		{name: "AcrossChunks", n: importChunk + insertRows + 3},
		{name: "Duplicates", n: 1000, dupEach: 7},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			db := mustOpen(t)
			b, im := newImport(t, db)
			wantDups := 0
			for i := range tt.n {
				openid := fmt.Sprintf("o%027d", i)
				if tt.dupEach > 0 && i > 0 && i%tt.dupEach == 0 {
					openid = fmt.Sprintf("o%027d", 0)
					wantDups++
				}
				if err := im.Add(ctx, int64(i+2), openid, `{"n":"`+fmt.Sprint(i)+`"}`); err != nil {
					t.Fatal(err)
				}
			}
			res, err := im.Finish(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if res.Total != int64(tt.n) || res.Duplicates != int64(wantDups) {
				t.Errorf("result %+v, want total %d, duplicates %d", res, tt.n, wantDups)
			}
			if wantDups > 0 && (res.FirstDuplicates[0] != Duplicate{Line: int64(tt.dupEach + 2), FirstLine: 2, OpenID: fmt.Sprintf("o%027d", 0)}) {
				t.Errorf("first duplicate = %+v", res.FirstDuplicates[0])
			}
			c, err := db.Counts(ctx, b.ID)
			if err != nil {
				t.Fatal(err)
			}
			if c.Pending != int64(tt.n-wantDups) || c.Skipped != int64(wantDups) {
				t.Errorf("counts %+v", c)
			}
			var vars, cmid string
			last := int64(tt.n + 1)
			if err := db.db.QueryRow(`SELECT vars, client_msg_id FROM recipients WHERE batch_id = ? AND line = ?`, b.ID, last).
				Scan(&vars, &cmid); err != nil {
				t.Fatal(err)
			}
			if vars != fmt.Sprintf(`{"n":"%d"}`, tt.n-1) || cmid != ClientMsgID(b.Nonce, last) || len(cmid) > 64 {
				t.Errorf("last row vars %s, client_msg_id %s", vars, cmid)
			}
			got, err := db.Batch(ctx, "b")
			if err != nil || got.Status != StatusReady || got.Total != int64(tt.n) {
				t.Errorf("batch %+v, %v", got, err)
			}
		})
	}
}

// A restarted import (the process died while importing) starts over.
func TestImporter_Restart(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	b, _ := db.CreateBatch(ctx, NewBatch{Name: "b"}, "1@h")
	im, _ := db.NewImporter(ctx, b)
	for i := range importChunk + 5 {
		im.Add(ctx, int64(i+2), fmt.Sprintf("o%027d", i), `{}`)
	}
	im.Abort() // the first chunk was committed, the rest is lost: a crash
	im, err := db.NewImporter(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		im.Add(ctx, int64(i+2), fmt.Sprintf("o%027d", i), `{}`)
	}
	if res, err := im.Finish(ctx); err != nil || res.Total != 3 {
		t.Fatalf("Finish = %+v, %v", res, err)
	}
	if c, _ := db.Counts(ctx, b.ID); c.Total() != 3 {
		t.Errorf("counts after restart %+v, want 3 rows", c)
	}
}

// An import interrupted while its writer is busy stops within a few blocks:
// Add returns the cause, Abort rolls back what was not committed and frees
// the database for the next writer.
func TestImporter_Interrupted(t *testing.T) {
	db := mustOpen(t)
	b, err := db.CreateBatch(t.Context(), NewBatch{Name: "b"}, "1@h")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(t.Context())
	defer cancel(nil)
	im, err := db.NewImporter(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("interrupted")
	added := 0
	for i := range 10 * importChunk {
		if i == importChunk+insertRows/2 {
			cancel(stop)
		}
		if err = im.Add(ctx, int64(i+2), fmt.Sprintf("o%027d", i), `{}`); err != nil {
			break
		}
		added++
	}
	if !errors.Is(err, stop) {
		t.Fatalf("Add after the interruption = %v, want %v", err, stop)
	}
	if limit := importChunk + insertRows*(importQueue+3); added > limit {
		t.Errorf("%d rows added before Add noticed, want at most %d", added, limit)
	}
	im.Abort()
	wctx, wcancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer wcancel()
	if _, err := db.db.ExecContext(wctx, `UPDATE batches SET updated_at = 0 WHERE id = ?`, b.ID); err != nil {
		t.Fatalf("write after Abort: %v (the import still holds the database?)", err)
	}
	var n int64
	if err := db.db.QueryRow(`SELECT COUNT(*) FROM recipients WHERE batch_id = ?`, b.ID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n%importChunk != 0 || n > int64(added) {
		t.Errorf("%d rows kept after Abort, want whole committed chunks of the %d added", n, added)
	}
}

// The duplicate search must find exactly the repeated openids whatever the
// filter in front of it says: a filter that suspects nearly everything (64
// bits), one that gives up and has the whole batch searched (64 bits, 3
// suspects), and the real one.
func TestImporter_DuplicateSearch(t *testing.T) {
	inputs := []struct {
		name    string
		openids []int // recipient i's openid number
	}{
		{name: "NoDuplicates", openids: []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{name: "Repeats", openids: []int{0, 1, 0, 2, 1, 3, 0, 4, 5, 5, 6, 7, 8, 9, 9}},
	}
	filters := []struct {
		name        string
		bits, max   int
		wantOverrun bool
	}{
		{name: "Real", bits: filterBits, max: maxSuspects},
		{name: "AllSuspect", bits: 64, max: maxSuspects},
		{name: "Overrun", bits: 64, max: 3, wantOverrun: true},
	}
	for _, in := range inputs {
		for _, f := range filters {
			t.Run(in.name+"/"+f.name, func(t *testing.T) {
				ctx := t.Context()
				db := mustOpen(t)
				b, im := newImport(t, db)
				im.dups = newDupFilter(f.bits, f.max)
				first := map[int]int64{}
				var want []Duplicate
				for i, id := range in.openids {
					line, openid := int64(i+2), fmt.Sprintf("o%027d", id)
					if l, ok := first[id]; ok {
						want = append(want, Duplicate{Line: line, FirstLine: l, OpenID: openid})
					} else {
						first[id] = line
					}
					if err := im.Add(ctx, line, openid, `{}`); err != nil {
						t.Fatal(err)
					}
				}
				if f.wantOverrun && len(want) > 0 && !im.dups.overflow {
					t.Fatal("the filter did not overrun: the test does not reach the whole-batch search")
				}
				res, err := im.Finish(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if res.Duplicates != int64(len(want)) || fmt.Sprint(res.FirstDuplicates) != fmt.Sprint(want) {
					t.Errorf("duplicates %d %v, want %d %v", res.Duplicates, res.FirstDuplicates, len(want), want)
				}
				var skipped []Duplicate
				if err := db.Recipients(ctx, b.ID, []string{StateSkipped}, func(r Recipient) error {
					d := Duplicate{Line: r.Line, OpenID: r.OpenID}
					_, err := fmt.Sscanf(r.Errmsg, "duplicate openid (first on line %d)", &d.FirstLine)
					skipped = append(skipped, d)
					return err
				}); err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(skipped) != fmt.Sprint(want) {
					t.Errorf("skipped rows %v, want %v", skipped, want)
				}
			})
		}
	}
}

// The import writer turns foreign keys off on its own connection and raises
// its checkpoint threshold; that connection must go back to the pool as it
// was, whether the import finished or was abandoned. One pooled connection
// makes the writer's the one every later statement uses.
func TestImporter_ConnectionBackAsItWas(t *testing.T) {
	for _, finish := range []bool{true, false} {
		t.Run(fmt.Sprintf("finish=%v", finish), func(t *testing.T) {
			db := mustOpen(t)
			db.db.SetMaxOpenConns(1)
			b, im := newImport(t, db)
			for i := range insertRows + 3 {
				if err := im.Add(t.Context(), int64(i+2), fmt.Sprintf("o%027d", i), `{}`); err != nil {
					t.Fatal(err)
				}
			}
			if finish {
				if _, err := im.Finish(t.Context()); err != nil {
					t.Fatal(err)
				}
			} else {
				im.Abort()
			}
			wantPragmas(t, db, pragma{"foreign_keys", 1}, pragma{"wal_autocheckpoint", 1000})
			_, err := db.db.Exec(`INSERT INTO recipients (batch_id, line, openid, vars, state, client_msg_id)
				VALUES (?, 2, 'o', '{}', 'pending', 'x')`, b.ID+1)
			if err == nil {
				t.Fatal("a recipient of a batch that does not exist was inserted after the import")
			}
		})
	}
}
