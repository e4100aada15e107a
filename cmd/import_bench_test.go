package cmd

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/template"
)

// BenchmarkImportCSV measures the whole import path of a campaign: read and
// validate each CSV row, render it against the template, lint it, and write
// it to the ledger; duplicate marking included.
func BenchmarkImportCSV(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	users := filepath.Join(dir, "users.csv")
	f, err := os.Create(users)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "openid,name,product,amount,paid_at,order_no")
	for i := range b.N {
		fmt.Fprintf(w, "o%027d,用户%d,商品%d,%d.00,2024年3月1日 10:15,SO%d\n", i, i, i, i, i)
	}
	w.Flush()
	f.Close()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "templates", "order_paid.json"))
	if err != nil {
		b.Fatal(err)
	}
	t, err := template.ParseFile("order_paid.json", data)
	if err != nil {
		b.Fatal(err)
	}
	db, err := store.Open(ctx, filepath.Join(dir, "megasend.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	batch, err := db.CreateBatch(ctx, store.NewBatch{Name: "bench"}, "1@bench")
	if err != nil {
		b.Fatal(err)
	}
	a := &app{streams: Streams{Out: io.Discard, Err: io.Discard}}
	src := &source{path: users, display: users, cleanup: func() {}}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	res, err := a.importBatch(ctx, db, batch, t, src, inputOptions{}, 0)
	if err != nil {
		b.Fatal(err)
	}
	if res.Total != int64(b.N) {
		b.Fatalf("imported %d, want %d", res.Total, b.N)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "rows/s")
}
