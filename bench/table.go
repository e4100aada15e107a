package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// row is one line of the table. A row without a target is context for the
// rows that have one.
type row struct {
	scenario string
	what     string // the workload
	measured string
	target   string
	verdict  string // met, not met, or "" without a target
}

func (b *bench) add(r row) {
	b.rows = append(b.rows, r)
	logf("%s: %s", r.scenario, r.measured)
}

// verdict says whether a target is met; in a quick run the sizes differ
// from the targets', so the verdict is only indicative.
func (b *bench) verdict(ok bool) string {
	v := "not met"
	if ok {
		v = "met"
	}
	if b.quick {
		v += " (quick)"
	}
	return v
}

// print writes the machine, the command and the table, as Markdown.
func (b *bench) print(w io.Writer, command []string) {
	fmt.Fprintf(w, "machine: %d cores (%s), %s/%s, %s\n", runtime.NumCPU(), cpuModel(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	fmt.Fprintf(w, "date: %s\n", time.Now().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "command: %s\n", strings.Join(command, " "))
	if b.loadBefore != "" {
		// Other work on the machine skews every figure; this shows it.
		fmt.Fprintf(w, "load average (1, 5, 15 min): %s before, %s after\n", b.loadBefore, loadAvg())
	}
	if b.quick {
		fmt.Fprintln(w, "quick run: sizes are reduced, so the verdicts do not judge the targets")
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| scenario | workload | measured | target | verdict |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, r := range b.rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", r.scenario, r.what, r.measured, r.target, r.verdict)
	}
}

// loadAvg is the system's load average where Linux tells it.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// cpuModel is the processor's name where Linux tells it.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// count formats n with thousands separators: 100,000.
func count(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// rss formats a run's peak resident memory.
func rss(r runResult) string {
	if r.maxRSS <= 0 {
		return "unknown"
	}
	s := fmt.Sprintf("%.1f MiB", float64(r.maxRSS)/(1<<20))
	if r.rssSampled {
		s += " (sampled)"
	}
	return s
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
