package recipient

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"testing"
	"unicode"
	"unicode/utf8"
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

// checkOpenIDBefore is CheckOpenID as it was before the strict check (1 to
// 64 bytes, a rune loop for spaces, then one for the alphabet): the
// baseline BenchmarkOpenIDCheck measures the new check against, in the
// same run.
func checkOpenIDBefore(s string) error {
	if s == "" {
		return errors.New("empty")
	}
	if len(s) > maxOpenIDLen {
		return fmt.Errorf("longer than %d bytes", maxOpenIDLen)
	}
	for _, r := range s {
		if unicode.IsSpace(r) {
			return errors.New("contains a space")
		}
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return errors.New("invalid UTF-8")
		}
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return fmt.Errorf("invalid character %q", r)
		}
		i += size
	}
	return nil
}

// BenchmarkOpenIDCheck runs every check over the same good openids and
// reports each one's cost as a ratio to the old check's, measured in the
// same run: the strict check must not slow a million-row import down.
func BenchmarkOpenIDCheck(b *testing.B) {
	ids := make([]string, 1024)
	for i := range ids {
		ids[i] = fmt.Sprintf("oRmDq5Jm3Ynl9XCdtgQ7K%07d", i)
	}
	checks := []struct {
		name  string
		check func(string) error
	}{
		{"before", checkOpenIDBefore},
		{"strict", OpenIDStrict.Check},
		{"loose", OpenIDLoose.Check},
	}
	var baseline float64
	for _, c := range checks {
		b.Run(c.name, func(b *testing.B) {
			n := 0
			for b.Loop() {
				if err := c.check(ids[n%len(ids)]); err != nil {
					b.Fatal(err)
				}
				n++
			}
			per := float64(b.Elapsed().Nanoseconds()) / float64(n)
			if c.name == "before" {
				baseline = per
			} else if baseline > 0 {
				b.ReportMetric(per/baseline, "x-before")
			}
		})
	}
}

// BenchmarkReader_CSVOpenIDs reads the same file with each openid check:
// the import's cost of the strict check, as a ratio to the loose one (the
// old rule) in the same run.
func BenchmarkReader_CSVOpenIDs(b *testing.B) {
	data := benchInput(b, false, false)
	for _, ids := range []OpenIDCheck{OpenIDLoose, OpenIDStrict} {
		b.Run(ids.String(), func(b *testing.B) {
			benchmarkRead(b, data, Options{Format: FormatCSV, OpenIDs: ids})
		})
	}
}
