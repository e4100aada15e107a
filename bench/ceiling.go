package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/template"
	"github.com/megasend/megasend/wechat"
)

// minimalRun is one run of the minimal client.
type minimalRun struct {
	rate       float64       // messages per second while posting
	cpu        time.Duration // the client's process, rendering included
	sandboxCPU time.Duration // the sandbox's process, serving it
}

// minimal runs the minimal client against a sandbox of its own started with
// the extra flags. The client runs in a child process of its own, as
// megasend does, which also keeps the bench's own memory small (see
// peakRSS).
func (b *bench) minimal(ctx context.Context, n, conc int, sandboxFlags ...string) (minimalRun, error) {
	sb, err := b.startSandbox(false, append([]string{"--quota", "2000000"}, sandboxFlags...)...)
	if err != nil {
		return minimalRun{}, err
	}
	defer sb.stop()
	out, cpu, err := b.child(ctx, 5*time.Minute, "ceiling", "-url", sb.url, "-n", strconv.Itoa(n),
		"-conc", strconv.Itoa(conc), "-template", b.template)
	if err != nil {
		return minimalRun{}, err
	}
	var res struct{ Seconds float64 }
	if err := json.Unmarshal(out, &res); err != nil || res.Seconds <= 0 {
		return minimalRun{}, fmt.Errorf("minimal client said %q: %v", out, err)
	}
	if err := checkAccepted(ctx, sb, n); err != nil {
		return minimalRun{}, err
	}
	sb.stop()
	return minimalRun{rate: float64(n) / res.Seconds, cpu: cpu, sandboxCPU: sb.cpu()}, nil
}

// ceilingClient is the child's side of ceiling: render n bodies, then post
// them from conc goroutines and return how long the posting took.
func ceilingClient(ctx context.Context, base string, n, conc int, templatePath string) (time.Duration, error) {
	bodies, err := renderBodies(templatePath, n)
	if err != nil {
		return 0, err
	}
	// The token, fetched through stable_token as megasend does.
	tc, err := wechat.New(wechat.Config{AppID: appID, AppSecret: appSecret, BaseURL: base})
	if err != nil {
		return 0, err
	}
	tok, err := tc.Token(ctx)
	if err != nil {
		return 0, fmt.Errorf("token: %w", err)
	}
	endpoint := base + "/cgi-bin/message/template/send?access_token=" + url.QueryEscape(tok)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConns: 2 * conc, MaxIdleConnsPerHost: conc}}

	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	var next atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(n) || ctx.Err() != nil {
					return
				}
				if err := post(ctx, hc, endpoint, bodies[i]); err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start), firstErr
}

// post sends one body and checks WeChat's answer.
func post(ctx context.Context, hc *http.Client, endpoint string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	var r struct {
		Errcode int    `json:"errcode"`
		Errmsg  string `json:"errmsg"`
		MsgID   int64  `json:"msgid"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return fmt.Errorf("answer %q: %w", data, err)
	}
	if r.Errcode != 0 || r.MsgID == 0 {
		return fmt.Errorf("errcode %d: %s", r.Errcode, r.Errmsg)
	}
	return nil
}

// renderBodies renders recipients 0..n-1 with the template the way
// megasend does: the same body bytes, a client_msg_id per recipient.
func renderBodies(path string, n int) ([][]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := template.ParseFile(path, data)
	if err != nil {
		return nil, err
	}
	const nonce = "0123456789ab" // a batch nonce is 6 random bytes in hex
	bodies := make([][]byte, n)
	for i := range bodies {
		row := userVars(i)
		bodies[i], err = t.Render(nil, row.Lookup, store.ClientMsgID(nonce, int64(row.Line)))
		if err != nil {
			return nil, err
		}
	}
	if n > 0 && len(bodies[0]) == 0 {
		return nil, errors.New("empty body")
	}
	return bodies, nil
}
