package store

import (
	"fmt"
	"testing"
)

// Pending pages through exactly the pending rows in line order, whether
// they lie together (read by primary key) or far apart (read through the
// state index).
func TestDB_Pending(t *testing.T) {
	for _, tt := range []struct {
		name    string
		pending func(line int64) bool
	}{
		{name: "All", pending: func(int64) bool { return true }},
		{name: "TailAfterSent", pending: func(line int64) bool { return line > 900 }},
		{name: "Scattered", pending: func(line int64) bool { return line%97 == 0 }},
		{name: "Holes", pending: func(line int64) bool { return line%5 != 0 }},
		{name: "None", pending: func(int64) bool { return false }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			db := mustOpen(t)
			b := importN(t, db, 2000)
			var want []int64
			for line := int64(2); line <= 2001; line++ {
				if tt.pending(line) {
					want = append(want, line)
					continue
				}
				state := StateSent
				if line%3 == 0 {
					state = StateFailed
				}
				if _, err := db.db.Exec(`UPDATE recipients SET state = ? WHERE batch_id = ? AND line = ?`, state, b.ID, line); err != nil {
					t.Fatal(err)
				}
			}
			var got []int64
			var after int64
			for {
				rows, err := db.Pending(ctx, b.ID, after, 16)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range rows {
					got = append(got, r.Line)
					after = r.Line
				}
				if len(rows) < 16 {
					break
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("pending lines\n got %v\nwant %v", got, want)
			}
		})
	}
}
