package recipient

import (
	"bytes"
	"io"
	"runtime"
	"testing"
)

// benchRows is the number of rows in each benchmark file: enough to amortise
// NewReader, small enough to build quickly.
const benchRows = 10_000

// benchInput renders benchRows typical rows (openid, a Chinese name, an
// amount, a quoted note) in the given format and encoding.
func benchInput(b *testing.B, jsonl, gbk bool) []byte {
	b.Helper()
	data, err := io.ReadAll(&rowSource{jsonl: jsonl, n: benchRows})
	if err != nil {
		b.Fatal(err)
	}
	if gbk {
		data = []byte(mustGBK(b, string(data)))
	}
	return data
}

// benchmarkRead decodes data b.N times and reports rows per second, the
// figure that says how long a million-recipient import spends parsing, and
// allocations per row (allocs/op is per file of benchRows rows).
func benchmarkRead(b *testing.B, data []byte, opts Options) {
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	rows := 0
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for b.Loop() {
		r, err := NewReader(bytes.NewReader(data), opts)
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			rows++
		}
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(rows), "allocs/row")
}

func BenchmarkReader_CSV(b *testing.B) {
	benchmarkRead(b, benchInput(b, false, false), Options{Format: FormatCSV})
}

func BenchmarkReader_CSVGBK(b *testing.B) {
	benchmarkRead(b, benchInput(b, false, true), Options{Format: FormatCSV, Encoding: "gbk"})
}

func BenchmarkReader_JSONL(b *testing.B) {
	benchmarkRead(b, benchInput(b, true, false), Options{Format: FormatJSONL})
}

func BenchmarkWriter_CSV(b *testing.B)   { benchmarkWrite(b, FormatCSV) }
func BenchmarkWriter_JSONL(b *testing.B) { benchmarkWrite(b, FormatJSONL) }

// benchmarkWrite measures the failed-recipients export path.
func benchmarkWrite(b *testing.B, f Format) {
	vars := []Var{{"name", "用户12345"}, {"amount", "12.50"}, {"note", `a, "quoted" note`}, {"errcode", "43004"}, {"errmsg", "require subscribe"}}
	cols := []string{"name", "amount", "note", "errcode", "errmsg"}
	b.ReportAllocs()
	w, err := NewWriter(io.Discard, f, cols)
	if err != nil {
		b.Fatal(err)
	}
	rows := 0
	for b.Loop() {
		if err := w.Write(id1, vars); err != nil {
			b.Fatal(err)
		}
		rows++
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
