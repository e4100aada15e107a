package web_test

// The page in a real browser: headless Chromium, driven by chromedp,
// against the API and pages served in-process over a simulated WeChat.
// Without Chromium these tests skip, saying how to run them.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/megasend/megasend/wechat/wechattest"
)

// screenshotsEnv names a directory where the browser tests also write
// their screenshots (docs/ for the README's).
const screenshotsEnv = "MEGASEND_SCREENSHOTS"

// findBrowser returns the path of a Chromium, or skips the test.
func findBrowser(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium found (chromium, chromium-browser, google-chrome): the browser tests need one; " +
		"on Debian: apt-get install chromium fonts-noto-cjk, then go test ./server/web/")
	return ""
}

// page is a browser tab on the fixture's server, with its screenshots.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string
	dir  string // the screenshots
}

// newTab starts a headless Chromium with a fresh profile.
func newTab(t *testing.T, base string) *tab {
	t.Helper()
	path := findBrowser(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.DisableGPU,
		chromedp.NoSandbox, // as root in CI; the pages are the test's own
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start %s: %v", path, err)
	}
	return &tab{t: t, ctx: ctx, base: base, dir: t.TempDir()}
}

// do runs steps, failing the test with what for.
func (b *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// text returns the text of the first element sel matches.
func (b *tab) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.TextContent(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// count returns a number the page shows (1,234) at sel.
func (b *tab) count(sel string) int64 {
	b.t.Helper()
	s := strings.ReplaceAll(b.text(sel), ",", "")
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		b.t.Fatalf("%s shows %q, not a number", sel, s)
	}
	return n
}

// waitFor polls the page until cond holds, or fails after d.
func (b *tab) waitFor(d time.Duration, what string, cond func() bool) {
	b.t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			b.shot("timeout")
			b.t.Fatalf("the page never showed %s (screenshot in %s)", what, b.dir)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// shot writes a full-page PNG of the page as name.png under the test's
// temporary directory, and under $MEGASEND_SCREENSHOTS when it is set.
func (b *tab) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	dirs := []string{b.dir}
	if d := os.Getenv(screenshotsEnv); d != "" {
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			b.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, name+".png"), png, 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
}

// The whole round in a browser: sign in, watch a running batch's counts
// rise to done, open it, see its failures by errcode, download the
// failed rows, pause and resume another batch, trace a message, sign out.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("a browser round takes a while; without -short it runs")
	}
	f := newFixture(t, wechattest.Options{})
	f.startRunner(60)
	b := newTab(t, f.ts.URL)

	// Signed out, the page is the sign-in form; a wrong key says so.
	b.do("open", chromedp.Navigate(f.ts.URL+"/"), chromedp.WaitVisible(chromedp.ID("key")))
	b.shot("signin")
	b.do("wrong key", chromedp.SendKeys(chromedp.ID("key"), "ms_live_wrong"), chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.CSS(".problem")))
	b.do("sign in", chromedp.SetValue(chromedp.ID("key"), f.keyA), chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.ID("account")))
	if got := b.text("#account"); got != "a" {
		t.Fatalf("signed in as %q, want a", got)
	}

	// A batch of 240 at 60 a second, its first 12 sends refused 43004
	// (the user does not follow the account).
	const total = 240
	f.wx.FailNext(12, 43004)
	f.createBatch(f.keyA, "spring", total)
	b.do("list", chromedp.Navigate(f.ts.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`tr[data-batch="spring"]`)))
	row := `tr[data-batch="spring"] `
	seen := map[int64]bool{}
	shotMid := false
	b.waitFor(60*time.Second, "spring done", func() bool {
		done := b.count(row+`[data-k="sent"]`) + b.count(row+`[data-k="failed"]`)
		seen[done] = true
		if !shotMid && done > total/3 {
			b.shot("batches")
			shotMid = true
		}
		return b.text(row+`[data-k="state"]`) == "done"
	})
	var between int
	for n := range seen {
		if n > 0 && n < total {
			between++
		}
	}
	// The counts rose in place: the page showed several values on the way,
	// without a reload (the row is the same element throughout).
	if between < 3 {
		t.Errorf("the list showed %d counts between 0 and %d on the way to done, want several: %v", between, total, seen)
	}
	if got := b.count(row + `[data-k="sent"]`); got != total-12 {
		t.Errorf("sent %d, want %d", got, total-12)
	}
	if got := b.count(row + `[data-k="failed"]`); got != 12 {
		t.Errorf("failed %d, want 12", got)
	}

	// The batch: failures by errcode, with what they mean.
	b.do("open the batch", chromedp.Click(chromedp.CSS(row+`a`)), chromedp.WaitVisible(chromedp.ID("failures")))
	fail := `tr[data-failure="failed:43004"]`
	if got := b.count(fail + ` [data-f="count"]`); got != 12 {
		t.Errorf("43004 count %d, want 12", got)
	}
	if txt := b.text(fail); !strings.Contains(txt, "follow") {
		t.Errorf("the 43004 row does not say what it means: %q", txt)
	}
	if txt := b.text("#failedrows"); !strings.Contains(txt, "张伟") {
		t.Errorf("the failed rows do not show the Chinese variables: %q", txt)
	}
	if pts, err := chromedp.Run(b.ctx, chromedp.AttributeValue(chromedp.CSS(`polyline[data-chart="points"]`), "points")); err != nil || len(strings.Fields(pts.Value)) < 2 {
		t.Errorf("the chart has no line: %q %v", pts.Value, err)
	}
	b.shot("batch")

	// The failed rows' export, downloaded as a browser does.
	dl := t.TempDir()
	if _, err := chromedp.CallBrowser(b.ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dl, EventsEnabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	finished := make(chan browser.EventDownloadProgress, 1)
	if err := chromedp.ListenBrowser(b.ctx, func(ev any) {
		if p, ok := ev.(*browser.EventDownloadProgress); ok && p.State == browser.DownloadProgressStateCompleted {
			select {
			case finished <- *p:
			default:
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	b.do("download", chromedp.Click(chromedp.ID("export")))
	var got browser.EventDownloadProgress
	select {
	case got = <-finished:
	case <-time.After(30 * time.Second):
		t.Fatal("the download never finished")
	}
	csv, err := os.ReadFile(filepath.Join(dl, got.GUID))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(csv)), "\n")
	if len(lines) != 13 || lines[0] != "openid,name,errcode,errmsg" || !strings.Contains(lines[1], ",43004,") ||
		!strings.Contains(lines[1], "张伟") {
		t.Errorf("the export has %d lines, want a header and 12:\n%s", len(lines), csv)
	}

	// Pause and resume a batch while it runs.
	f.createBatch(f.keyA, "summer", 3000)
	b.do("open summer", chromedp.Navigate(f.ts.URL+"/batches/summer"), chromedp.WaitVisible(chromedp.ID("pause")))
	b.waitFor(30*time.Second, "summer sending", func() bool { return b.count(`[data-k="sent"]`) > 0 })
	// Pressed on a page drawn afresh: the script redraws a page whose state
	// changed since it was drawn, and a click during that redraw is lost.
	summer := f.ts.URL + "/batches/summer"
	b.do("pause", chromedp.Navigate(summer), chromedp.Click(chromedp.ID("pause")), chromedp.WaitVisible(chromedp.ID("resume")))
	b.waitFor(30*time.Second, "summer paused", func() bool { return b.text(`.pill[data-k="state"]`) == "paused" })
	b.shot("batch-paused")
	held := b.count(`[data-k="sent"]`)
	time.Sleep(1500 * time.Millisecond)
	if now := b.count(`[data-k="sent"]`); now != held {
		t.Errorf("paused, the count still rose: %d to %d", held, now)
	}
	b.do("resume", chromedp.Navigate(summer), chromedp.Click(chromedp.ID("resume")), chromedp.WaitVisible(chromedp.ID("pause")))
	b.waitFor(30*time.Second, "summer sending again", func() bool { return b.count(`[data-k="sent"]`) > held })

	// The same page on a phone.
	b.do("phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	b.shot("batch-phone")
	b.do("desktop", chromedp.EmulateViewport(1280, 900))

	// A single message's trace.
	id := f.sendMessage(t, "oTestmsg00000000000000000001")
	b.do("trace", chromedp.SetValue(chromedp.ID("msgid"), strconv.FormatInt(id, 10)),
		chromedp.Submit(chromedp.ID("msgid")), chromedp.WaitVisible(chromedp.ID("msgstate")))
	b.waitFor(30*time.Second, "the message sent", func() bool {
		if b.text("#msgstate") == "sent" {
			return true
		}
		b.do("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("msgstate")))
		return false
	})
	b.shot("message")

	// Sign out: back to the form, and the pages are closed.
	b.do("sign out", chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("key")))
	b.do("after", chromedp.Navigate(f.ts.URL+"/batches/spring"), chromedp.WaitVisible(chromedp.ID("key")))
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil || !strings.Contains(loc, "/signin?next=") {
		t.Errorf("signed out, /batches/spring is at %q (%v), want the sign-in form", loc, err)
	}
	t.Logf("screenshots in %s", b.dir)
}

// sendMessage accepts one message for openid through the API and returns
// its id.
func (f *fixture) sendMessage(t *testing.T, openid string) int64 {
	t.Helper()
	req := httptest.NewRequest("POST", "/v1/messages", strings.NewReader(
		fmt.Sprintf(`{"template":"order","openid":%q,"vars":{"name":"李雷"}}`, openid)))
	req.Header.Set("Authorization", "Bearer "+f.keyA)
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, req)
	if w.Code != http.StatusAccepted {
		t.Fatalf("accept a message: %d %s", w.Code, w.Body)
	}
	var m struct{ ID int64 }
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil || m.ID == 0 {
		t.Fatalf("accept a message: %v %s", errors.Join(err), w.Body)
	}
	return m.ID
}

func ptr[T any](v T) *T { return &v }
