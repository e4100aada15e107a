package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// serveUpload is issue 17's upload target: the same CSV file imported by
// the CLI and uploaded to `megasend serve` through POST /v1/batches, each
// round both, into fresh databases. The CLI's figure is its import phase
// alone, from "importing recipients" logged to "imported" logged: the
// file's sha256 pass before it, the process start, the store's opening
// and the sends after it are left out. The service's figure is the whole
// request as its client sees it, from the first byte sent to the 201 read:
// receiving the body, spooling and hashing it, importing it and answering.
// The service must reach 0.8 of the CLI's rows/s with a peak RSS of at
// most 96 MiB.
func (b *bench) serveUpload(ctx context.Context) error {
	n := b.sz.upload
	users, err := b.writeUsers(n)
	if err != nil {
		return err
	}
	var cliRates, cliWhole, srvRates, srvSide, srvImport, spooled, ratios []float64
	var cliRSS, srvRSS, cliCPU, srvCPU []float64 // MiB; µs per row
	var cliPeak runResult
	var srvPeak uploadResult
	for round := 1; round <= b.rounds; round++ {
		logf("serve-upload (round %d of %d): the CLI imports %d rows", round, b.rounds, n)
		db := filepath.Join(b.dir, "upload-cli.db")
		removeDB(db)
		r, err := b.importRun(ctx, db, users)
		removeDB(db)
		if err != nil {
			return err
		}
		from, ok1 := r.since("importing recipients")
		to, ok2 := r.since("imported")
		if !ok1 || !ok2 || to <= from {
			return fmt.Errorf("megasend logged no \"importing recipients\" and \"imported\" lines:\n%s", tail(r.stderr))
		}
		cliRate := float64(n) / (to - from).Seconds()
		cliRates = append(cliRates, cliRate)
		cliWhole = append(cliWhole, float64(n)/to.Seconds())
		cliRSS = append(cliRSS, float64(r.maxRSS)/(1<<20))
		cliCPU = append(cliCPU, perMsgMicros(r.cpu, n))
		if r.maxRSS > cliPeak.maxRSS {
			cliPeak = r
		}

		logf("serve-upload (round %d of %d): POST /v1/batches of the same %d rows", round, b.rounds, n)
		db = filepath.Join(b.dir, "upload-serve.db")
		removeDB(db)
		u, err := b.uploadRun(ctx, db, users, n)
		removeDB(db)
		if err != nil {
			return err
		}
		srvRate := float64(n) / u.took.Seconds()
		srvRates = append(srvRates, srvRate)
		srvSide = append(srvSide, float64(n)/u.serverTook.Seconds())
		spooled = append(spooled, 100*u.spooled.Seconds()/u.serverTook.Seconds())
		srvImport = append(srvImport, float64(n)/(u.serverTook-u.spooled).Seconds())
		ratios = append(ratios, srvRate/cliRate)
		srvRSS = append(srvRSS, float64(u.maxRSS)/(1<<20))
		srvCPU = append(srvCPU, perMsgMicros(u.cpu, n))
		if u.maxRSS > srvPeak.maxRSS {
			srvPeak = u
		}
	}
	med := median(ratios)
	b.add(row{scenario: "serve-upload",
		what: fmt.Sprintf("%s CSV rows through `POST /v1/batches` (text/csv, streamed, `send_at` a day ahead) ÷ the CLI's import of the same file, same round", count(n)),
		measured: fmt.Sprintf("**%.2f**%s: %s rows/s (client's first byte to its 201; %s rows/s by the server's request log) "+
			"against the CLI's %s rows/s (\"importing recipients\" to \"imported\"; %s rows/s from its process start); "+
			"receiving, spooling and hashing the body took %.1f%% of the server's time%s, "+
			"the import and the answer after it %s rows/s%s",
			med, b.each(ratios, "%.2f"), count(int(median(srvRates))), count(int(median(srvSide))),
			count(int(median(cliRates))), count(int(median(cliWhole))), median(spooled), b.each(spooled, "%.1f"),
			count(int(median(srvImport))), b.each(srvImport, "%.0f")),
		target: "≥ 0.8", verdict: b.verdict(med >= 0.8)})
	b.add(row{scenario: "serve-upload",
		what: "peak RSS of the `megasend serve` process over its whole life (start, key check, upload, import, answer, SIGTERM)",
		measured: fmt.Sprintf("**%s**%s; the CLI's import run: %s%s. CPU per row, whole process (median): serve %.1f µs "+
			"(start, upload, import, answer, stop), the CLI %.1f µs (start, hash pass, import, preflight, one refused send)",
			rss(srvPeak.runResult), highest(srvRSS), rss(cliPeak), highest(cliRSS), median(srvCPU), median(cliCPU)),
		target: "≤ 96 MiB", verdict: b.verdict(srvPeak.maxRSS > 0 && srvPeak.maxRSS <= 96<<20)})
	return nil
}

// highest says that a figure is the highest of the rounds, and lists
// them (MiB); nothing for one round.
func highest(mib []float64) string {
	if len(mib) < 2 {
		return ""
	}
	parts := make([]string, len(mib))
	for i, m := range mib {
		parts[i] = fmt.Sprintf("%.1f", m)
	}
	return fmt.Sprintf(" (the highest of %d rounds: %s)", len(mib), strings.Join(parts, ", "))
}

// removeDB removes a database and its WAL files: a million rows are a few
// hundred MB that the next step does not need.
func removeDB(db string) {
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(db + suffix)
	}
}

// uploadResult is one upload to a serve process, and what the process cost
// over its whole life.
type uploadResult struct {
	runResult
	took       time.Duration // the client's: request start to the 201 read
	serverTook time.Duration // the server's request log's "took"
	// spooled is the part of serverTook before the import started
	// ("importing recipients" logged): receiving, spooling and hashing the
	// body, the checks of the name and the template, the batch's row.
	spooled time.Duration
}

// uploadRun stores the template and an API key in db with the CLI, starts
// `megasend serve --sandbox`, uploads users (n rows) as one streamed
// text/csv body, checks the 201, and stops serve with SIGTERM, which must
// exit 0.
func (b *bench) uploadRun(ctx context.Context, db, users string, n int) (uploadResult, error) {
	var u uploadResult
	if _, err := b.plain(ctx, db, "template", "add", "order_paid", "--file", b.template); err != nil {
		return u, err
	}
	out, err := b.plain(ctx, db, "apikey", "add", "bench")
	if err != nil {
		return u, err
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	key := lines[len(lines)-1]

	sp, err := b.startServe(db)
	if err != nil {
		return u, err
	}
	defer sp.kill()
	stop := make(chan struct{})
	hwm := watchHWM(sp.cmd.Process.Pid, stop)

	sendAt := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	took, err := postCSV(ctx, sp.url+"/v1/batches?name=upload&template=order_paid&send_at="+sendAt, key, users, n)
	if err != nil {
		close(stop)
		return u, fmt.Errorf("%w\n%s", err, tail(sp.log()))
	}
	u.took = took
	code, err := sp.stopWith(syscall.SIGTERM, time.Minute)
	close(stop)
	u.runResult = sp.result(<-hwm)
	u.code = code
	if err != nil {
		return u, err
	}
	if code != 0 {
		return u, fmt.Errorf("serve exited %d on SIGTERM, want 0\n%s", code, tail(u.stderr))
	}
	var end time.Time
	if u.serverTook, end, err = requestTook(u.stderr, "/v1/batches"); err != nil {
		return u, err
	}
	importing, ok := u.logged["importing recipients"]
	if !ok {
		return u, fmt.Errorf("serve logged no \"importing recipients\":\n%s", tail(u.stderr))
	}
	u.spooled = importing.Sub(end.Add(-u.serverTook))
	return u, nil
}

// postCSV posts the file at path as a text/csv body of unknown length
// (chunked, read from the file as the connection takes it) and checks the
// answer: 201, the batch of n recipients scheduled, none sent. It returns
// the time from the request's start to the answer's last byte.
func postCSV(ctx context.Context, url, key, path string, n int) (time.Duration, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	// Hiding the file's type keeps net/http from learning its size: the
	// body goes out chunked, as a client streaming rows it makes would
	// send it.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, struct{ io.Reader }{f})
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "text/csv")
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("POST /v1/batches: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	took := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("POST /v1/batches: %w", err)
	}
	if resp.StatusCode != http.StatusCreated {
		return 0, fmt.Errorf("POST /v1/batches: %s, want 201: %s", resp.Status, tail(body))
	}
	var doc struct {
		Counts   map[string]int64 `json:"counts"`
		Schedule struct {
			State string `json:"state"`
		} `json:"schedule"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return 0, fmt.Errorf("POST /v1/batches: %w", err)
	}
	if doc.Counts["total"] != int64(n) || doc.Counts["sent"] != 0 || doc.Schedule.State != "scheduled" {
		return 0, fmt.Errorf("POST /v1/batches: counts %v, schedule %q; want %d recipients scheduled, none sent",
			doc.Counts, doc.Schedule.State, n)
	}
	return took, nil
}

// requestTook reads the "took" of the first logged request to path from
// serve's JSON log, and when it was logged (once answered).
func requestTook(log []byte, path string) (time.Duration, time.Time, error) {
	for line := range bytes.Lines(log) {
		var l struct {
			Time time.Time     `json:"time"`
			Msg  string        `json:"msg"`
			Path string        `json:"path"`
			Took time.Duration `json:"took"`
		}
		if json.Unmarshal(line, &l) == nil && l.Msg == "request" && l.Path == path {
			return l.Took, l.Time, nil
		}
	}
	return 0, time.Time{}, fmt.Errorf("serve logged no request to %s:\n%s", path, tail(log))
}

// plain runs a CLI command of megasend on db, with no WeChat API, and
// returns its stdout.
func (b *bench) plain(ctx context.Context, db string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.bin, args...)
	cmd.Dir = b.dir
	cmd.Env = append(cleanEnv(), "MEGASEND_DB="+db, "XDG_CONFIG_HOME="+b.dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("megasend %s: %w\n%s", strings.Join(args, " "), err, tail(stderr.Bytes()))
	}
	return out, nil
}

// serveProc is a running `megasend serve`.
type serveProc struct {
	cmd        *exec.Cmd
	url        string
	start      time.Time
	parentPeak int64
	waited     chan struct{}

	mu     sync.Mutex
	stderr bytes.Buffer
}

// startServe starts `megasend serve --sandbox` on a free loopback port over
// db and waits until it listens.
func (b *bench) startServe(db string) (*serveProc, error) {
	sp := &serveProc{waited: make(chan struct{})}
	sp.cmd = exec.Command(b.bin, "--log-format", "json", "serve", "--sandbox", "--addr", "127.0.0.1:0")
	sp.cmd.Dir = b.dir
	sp.cmd.Env = append(cleanEnv(), "MEGASEND_DB="+db, "XDG_CONFIG_HOME="+b.dir)
	if prof := os.Getenv("BENCH_SERVE_CPUPROFILE"); prof != "" {
		// By hand: a CPU profile of the serve process (go tool pprof).
		sp.cmd.Env = append(sp.cmd.Env, "MEGASEND_CPUPROFILE="+prof)
	}
	stderr, err := sp.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	sp.parentPeak = selfMaxRSS()
	sp.start = time.Now()
	if err := sp.cmd.Start(); err != nil {
		return nil, err
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			sp.mu.Lock()
			sp.stderr.Write(sc.Bytes())
			sp.stderr.WriteByte('\n')
			sp.mu.Unlock()
			if u, ok := listening(sc.Bytes()); ok {
				select {
				case urls <- u:
				default:
				}
			}
		}
		io.Copy(io.Discard, stderr)
		sp.cmd.Wait()
		close(sp.waited)
	}()
	select {
	case sp.url = <-urls:
		return sp, nil
	case <-sp.waited:
		return nil, fmt.Errorf("serve exited before it listened:\n%s", tail(sp.log()))
	case <-time.After(30 * time.Second):
		sp.kill()
		return nil, fmt.Errorf("serve did not listen in 30 s:\n%s", tail(sp.log()))
	}
}

// listening reads serve's "listening on URL" line, plain or as a JSON log
// line's message.
func listening(line []byte) (string, bool) {
	msg := string(line)
	var l struct {
		Msg string `json:"msg"`
	}
	if json.Unmarshal(line, &l) == nil {
		msg = l.Msg
	}
	if u, ok := strings.CutPrefix(msg, "listening on "); ok {
		return u, true
	}
	return "", false
}

func (sp *serveProc) log() []byte {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return bytes.Clone(sp.stderr.Bytes())
}

// stopWith signals serve and waits up to limit for it to exit, then kills
// it; it returns the exit code.
func (sp *serveProc) stopWith(sig os.Signal, limit time.Duration) (int, error) {
	sp.cmd.Process.Signal(sig)
	select {
	case <-sp.waited:
	case <-time.After(limit):
		sp.kill()
		return -1, fmt.Errorf("serve did not exit %v after %v\n%s", limit, sig, tail(sp.log()))
	}
	return sp.cmd.ProcessState.ExitCode(), nil
}

// kill ends serve at once, if it still runs.
func (sp *serveProc) kill() {
	select {
	case <-sp.waited:
	default:
		sp.cmd.Process.Kill()
		<-sp.waited
	}
}

// result is what the exited process cost: its wall time, CPU and peak RSS
// (see peakRSS), with sampled the highest VmHWM seen.
func (sp *serveProc) result(sampled int64) runResult {
	r := runResult{start: sp.start, stderr: sp.log()}
	r.logged = loggedTimes(r.stderr)
	if sp.cmd.ProcessState == nil {
		return r
	}
	var ruPeak int64
	r.cpu, ruPeak = usage(sp.cmd.ProcessState)
	r.maxRSS, r.rssSampled = peakRSS(ruPeak, sp.parentPeak, sampled)
	return r
}
