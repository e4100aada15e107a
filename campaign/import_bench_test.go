package campaign

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/template"
)

// BenchmarkImportCSV measures the whole import path of a campaign: read and
// validate each CSV row, render it against the template, lint it, and write
// it to the ledger; duplicate marking included. (The file is hashed before
// the timer starts, as a campaign hashes it before the import.)
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
	src, err := FileSource(users)
	if err != nil {
		b.Fatal(err)
	}
	svc := New(db, "1@bench", nil)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	_, imp, err := svc.Create(ctx, Spec{Name: "bench", Template: t, TemplateRef: "order_paid.json", Source: src})
	if err != nil {
		b.Fatal(err)
	}
	if imp.Total != int64(b.N) {
		b.Fatalf("imported %d, want %d", imp.Total, b.N)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "rows/s")
}
