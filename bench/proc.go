package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// The sandbox's credentials (its defaults).
const (
	appID     = "wx5a4d3b2c1e0f9a8b"
	appSecret = "sandbox-secret-not-for-production"
)

// bench is one run of the suite: the binary, a scratch directory, and the
// rows measured so far.
type bench struct {
	sz       sizes
	quick    bool
	root     string // the module's directory
	dir      string // scratch: binary, databases, recipient files
	bin      string
	template string // absolute path of testdata/templates/order_paid.json
	rows     []row

	loadBefore string // load average when the suite started

	rounds int // of the zero-latency pairs and of the million-row import
}

// setup finds the module, builds megasend and makes the scratch directory.
func setup(ctx context.Context, sz sizes, quick bool) (*bench, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return nil, fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return nil, errors.New("run from inside the megasend module: go run ./bench")
	}
	b := &bench{sz: sz, quick: quick, root: filepath.Dir(gomod), loadBefore: loadAvg()}
	b.template = filepath.Join(b.root, "testdata", "templates", "order_paid.json")
	if _, err := os.Stat(b.template); err != nil {
		return nil, err
	}
	if b.dir, err = os.MkdirTemp("", "megasend-bench-"); err != nil {
		return nil, err
	}
	b.bin = filepath.Join(b.dir, "megasend")
	logf("building megasend")
	build := exec.CommandContext(ctx, "go", "build", "-o", b.bin, ".")
	build.Dir = b.root
	if out, err := build.CombinedOutput(); err != nil {
		os.RemoveAll(b.dir)
		return nil, fmt.Errorf("go build: %w\n%s", err, out)
	}
	return b, nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// sandbox is a running `megasend sandbox` process.
type sandbox struct {
	url        string
	deliveries string // "" unless asked for
	cmd        *exec.Cmd
	waited     chan struct{}
}

// startSandbox starts megasend sandbox on a free loopback port with extra
// flags, and a deliveries file if withDeliveries.
func (b *bench) startSandbox(withDeliveries bool, extra ...string) (*sandbox, error) {
	sb := &sandbox{waited: make(chan struct{})}
	args := []string{"sandbox", "--addr", "127.0.0.1:0", "--seed", "1"}
	if withDeliveries {
		f, err := os.CreateTemp(b.dir, "deliveries-*.jsonl")
		if err != nil {
			return nil, err
		}
		f.Close()
		sb.deliveries = f.Name()
		args = append(args, "--deliveries", sb.deliveries)
	}
	sb.cmd = exec.Command(b.bin, append(args, extra...)...)
	sb.cmd.Dir = b.dir
	sb.cmd.Stderr = io.Discard
	stdout, err := sb.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := sb.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { sb.cmd.Wait(); close(sb.waited) }()
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "url: "); ok {
				urls <- u
			}
		}
	}()
	select {
	case sb.url = <-urls:
		return sb, nil
	case <-sb.waited:
		return nil, errors.New("sandbox exited before printing its url")
	case <-time.After(10 * time.Second):
		sb.stop()
		return nil, errors.New("sandbox printed no url in 10s")
	}
}

// stop interrupts the sandbox and waits for it, killing it after 10 s.
func (sb *sandbox) stop() {
	sb.cmd.Process.Signal(os.Interrupt)
	select {
	case <-sb.waited:
	case <-time.After(10 * time.Second):
		sb.cmd.Process.Kill()
		<-sb.waited
	}
}

// cpu is the sandbox's CPU time (user + system), once stop has returned.
func (sb *sandbox) cpu() time.Duration {
	if sb.cmd.ProcessState == nil {
		return 0
	}
	cpu, _ := usage(sb.cmd.ProcessState)
	return cpu
}

// accepted is the sandbox's count of delivered messages.
func (sb *sandbox) accepted(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, sb.url+"/sandbox/stats", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("sandbox stats: %w", err)
	}
	defer resp.Body.Close()
	var st struct {
		Accepted int64 `json:"accepted"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return 0, fmt.Errorf("sandbox stats: %w", err)
	}
	return st.Accepted, nil
}

// runResult is what one megasend process did and cost.
type runResult struct {
	start  time.Time
	wall   time.Duration // process start to exit
	cpu    time.Duration // user + system
	maxRSS int64         // bytes; 0 if unknown
	// rssSampled says maxRSS is the highest VmHWM sampled while the
	// process ran rather than its rusage (see peakRSS).
	rssSampled bool
	code       int
	stderr     []byte
	// logged is when the process logged each message first (its JSON log's
	// "msg" and "time"), e.g. "imported", "sending".
	logged map[string]time.Time
}

// since returns how long after the process start msg was logged, and
// whether it was.
func (r runResult) since(msg string) (time.Duration, bool) {
	t, ok := r.logged[msg]
	return t.Sub(r.start), ok
}

// megasend runs the binary against sb with database db, bounded by limit,
// and fails unless it exits with one of the codes in want.
func (b *bench) megasend(ctx context.Context, sb *sandbox, db string, limit time.Duration, want []int, args ...string) (runResult, error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.bin, append([]string{"--log-format", "json"}, args...)...)
	cmd.Dir = b.dir
	cmd.Env = append(cleanEnv(),
		"MEGASEND_API_BASE="+sb.url, "MEGASEND_APP_ID="+appID, "MEGASEND_APP_SECRET="+appSecret,
		"MEGASEND_DB="+db, "XDG_CONFIG_HOME="+b.dir)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	parentPeak := selfMaxRSS()
	r := runResult{start: time.Now()}
	if err := cmd.Start(); err != nil {
		return r, fmt.Errorf("megasend %s: %w", strings.Join(args, " "), err)
	}
	stop := make(chan struct{})
	hwm := watchHWM(cmd.Process.Pid, stop)
	err := cmd.Wait()
	r.wall = time.Since(r.start)
	close(stop)
	r.stderr = stderr.Bytes()
	r.logged = loggedTimes(r.stderr)
	if cmd.ProcessState == nil {
		return r, fmt.Errorf("megasend %s: %w", strings.Join(args, " "), err)
	}
	r.code = cmd.ProcessState.ExitCode()
	var ruPeak int64
	r.cpu, ruPeak = usage(cmd.ProcessState)
	r.maxRSS, r.rssSampled = peakRSS(ruPeak, parentPeak, <-hwm)
	for _, c := range want {
		if r.code == c {
			return r, nil
		}
	}
	if ctx.Err() != nil {
		return r, fmt.Errorf("megasend %s: killed after %v\n%s", strings.Join(args, " "), limit, tail(r.stderr))
	}
	return r, fmt.Errorf("megasend %s: exit %d, want %v\n%s", strings.Join(args, " "), r.code, want, tail(r.stderr))
}

// peakRSS picks a child's peak resident memory. Linux starts a child's
// ru_maxrss at its parent's peak when it execs from a vfork (as Go's
// os/exec does), so rusage reports max(parent's peak, child's peak). When
// that exceeds the parent's peak it is the child's own, exactly; otherwise
// the child stayed below its parent and only the sampled VmHWM can say by
// how much.
func peakRSS(rusage, parentPeak, sampled int64) (peak int64, isSampled bool) {
	if rusage > parentPeak || sampled == 0 {
		return rusage, false
	}
	return sampled, true
}

// cleanEnv is the environment without megasend's own variables, so no
// configuration of the person running the suite leaks into it.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MEGASEND_") && !strings.HasPrefix(kv, "XDG_CONFIG_HOME=") {
			env = append(env, kv)
		}
	}
	return env
}

// loggedTimes reads a JSON log: the first time of each message.
func loggedTimes(log []byte) map[string]time.Time {
	m := map[string]time.Time{}
	for line := range bytes.Lines(log) {
		var l struct {
			Time time.Time `json:"time"`
			Msg  string    `json:"msg"`
		}
		if json.Unmarshal(line, &l) != nil || l.Msg == "" {
			continue
		}
		if _, ok := m[l.Msg]; !ok {
			m[l.Msg] = l.Time
		}
	}
	return m
}

// tail is the end of a process's output, for an error message.
func tail(b []byte) []byte {
	const max = 2000
	if len(b) > max {
		return b[len(b)-max:]
	}
	return b
}
