package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
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
			b, err := db.CreateBatch(ctx, NewBatch{Name: "b"}, "1@h")
			if err != nil {
				t.Fatal(err)
			}
			im, err := db.NewImporter(ctx, b)
			if err != nil {
				t.Fatal(err)
			}
			wantDups := 0
			for i := range tt.n {
				openid := fmt.Sprintf("o%027d", i)
				if tt.dupEach > 0 && i > 0 && i%tt.dupEach == 0 {
					openid = fmt.Sprintf("o%027d", 0)
					wantDups++
				}
				if err := im.Add(ctx, int64(i+2), openid, []byte(`{"n":"`+fmt.Sprint(i)+`"}`)); err != nil {
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
		im.Add(ctx, int64(i+2), fmt.Sprintf("o%027d", i), []byte(`{}`))
	}
	im.Abort() // the first chunk was committed, the rest is lost: a crash
	im, err := db.NewImporter(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		im.Add(ctx, int64(i+2), fmt.Sprintf("o%027d", i), []byte(`{}`))
	}
	if res, err := im.Finish(ctx); err != nil || res.Total != 3 {
		t.Fatalf("Finish = %+v, %v", res, err)
	}
	if c, _ := db.Counts(ctx, b.ID); c.Total() != 3 {
		t.Errorf("counts after restart %+v, want 3 rows", c)
	}
}
