package cmd

import (
	"strings"
	"testing"

	"github.com/rivo/uniseg"
)

// Columns line up on screen whatever the script of the cells before them:
// each column starts at the same display column in every row.
func TestTable(t *testing.T) {
	for _, tt := range []struct {
		name string
		rows [][]string
	}{
		{name: "ASCII", rows: [][]string{{"KEY", "TITLE", "ID"}, {"a", "Shipped", "x1"}, {"bbbb", "-", "y"}}},
		{name: "Chinese", rows: [][]string{{"KEY", "TITLE", "ID"}, {"paid", "订单支付成功通知", "x1"}, {"ship", "Shipped", "y"}}},
		{name: "Mixed", rows: [][]string{{"名称", "状态"}, {"双十一-促销", "done"}, {"n", "paused"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var tb table
			for _, r := range tt.rows {
				tb.add(r...)
			}
			var b strings.Builder
			if err := tb.write(&b, "  "); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
			if len(lines) != len(tt.rows) {
				t.Fatalf("%d lines, want %d:\n%s", len(lines), len(tt.rows), b.String())
			}
			for col := 1; col < len(tt.rows[0]); col++ {
				want := -1
				for i, line := range lines {
					start := columnStart(line, tt.rows[i][:col+1])
					if want == -1 {
						want = start
					} else if start != want {
						t.Errorf("row %d: column %d starts at display column %d, want %d:\n%s", i, col, start, want, b.String())
					}
				}
			}
			if strings.HasSuffix(lines[1], " ") {
				t.Errorf("the last column is padded: %q", lines[1])
			}
		})
	}
}

// columnStart is the display column where the last of cells begins in
// line, which holds cells in order.
func columnStart(line string, cells []string) int {
	pos := 0
	for _, c := range cells[:len(cells)-1] {
		pos = strings.Index(line[pos:], c) + pos + len(c)
	}
	pos = strings.Index(line[pos:], cells[len(cells)-1]) + pos
	return uniseg.StringWidth(line[:pos])
}
