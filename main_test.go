package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/megasend/megasend/wechat/wechattest"
)

var update = flag.Bool("update", false, "rewrite the golden output in testdata/script/*.txtar")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"megasend": func() { os.Exit(run()) },
	})
}

// TestScript runs the end-to-end scripts in testdata/script against the real
// binary. Each script gets its own database and can start a simulated WeChat
// API with the sandbox command, which points megasend at it through the
// environment, as a user's configuration would.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       *update,
		Setup: func(env *testscript.Env) error {
			env.Setenv("MEGASEND_DB", filepath.Join(env.WorkDir, "megasend.db"))
			root, err := filepath.Abs(".")
			if err != nil {
				return err
			}
			// Scripts reach the bundled examples as $TESTDATA.
			env.Setenv("TESTDATA", filepath.Join(root, "testdata"))
			env.Values[simKey{}] = &simHolder{}
			env.Values[receiptsKey{}] = &receiptsState{}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"sandbox":       cmdSandbox,
			"wechat":        cmdWeChat,
			"wechat-sent":   cmdWeChatSent,
			"wechat-unique": cmdWeChatUnique,
			"receiver":      cmdReceiver,
			"receipts":      cmdReceipts,
			"sandbox-proc":  cmdSandboxProc,
			"quiet-window":  cmdQuietWindow,
		},
	})
}

type simKey struct{}

type simHolder struct{ srv *wechattest.Server }

func sim(ts *testscript.TestScript) *wechattest.Server {
	h := ts.Value(simKey{}).(*simHolder)
	if h.srv == nil {
		ts.Fatalf("no sandbox: run 'sandbox' first")
	}
	return h.srv
}

// cmdSandbox starts a simulated WeChat API for the script:
//
//	sandbox [quota=N] [latency=D] [dedup=D] [unfollowed=ID,...] [ttl=D]
//	        [followers=N] [tags=NAME=COUNT,...] [interacted=P%|ID,...] [subscribed=P%|ID,...]
//
// followers makes membership real (see wechattest.Options.Followers).
func cmdSandbox(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! sandbox")
	}
	var o wechattest.Options
	for _, a := range args {
		k, v, _ := strings.Cut(a, "=")
		var err error
		switch k {
		case "quota":
			o.Quota, err = strconv.Atoi(v)
		case "latency":
			o.Latency, err = time.ParseDuration(v)
		case "dedup":
			o.DedupWindow, err = time.ParseDuration(v)
		case "ttl":
			o.TokenTTL, err = time.ParseDuration(v)
		case "unfollowed":
			o.Unfollowed = strings.Split(v, ",")
		case "followers":
			o.Followers, err = strconv.Atoi(v)
		case "tags":
			for _, t := range strings.Split(v, ",") {
				name, count, _ := strings.Cut(t, "=")
				n, cerr := strconv.Atoi(count)
				o.Tags, err = append(o.Tags, wechattest.Tag{Name: name, Count: n}), errors.Join(err, cerr)
			}
		case "interacted":
			o.Interacted, err = scriptAudience(v)
		case "subscribed":
			o.Subscribed, err = scriptAudience(v)
		default:
			ts.Fatalf("sandbox: unknown option %q", a)
		}
		ts.Check(err)
	}
	srv := wechattest.NewServer(o)
	ts.Defer(srv.Close)
	ts.Value(simKey{}).(*simHolder).srv = srv
	ts.Setenv("MEGASEND_API_BASE", srv.URL)
	ts.Setenv("MEGASEND_APP_ID", wechattest.DefaultAppID)
	ts.Setenv("MEGASEND_APP_SECRET", wechattest.DefaultAppSecret)
}

// scriptAudience parses a sandbox audience option: "P%" or openids
// separated by commas.
func scriptAudience(v string) (*wechattest.Audience, error) {
	if p, ok := strings.CutSuffix(v, "%"); ok {
		f, err := strconv.ParseFloat(p, 64)
		return &wechattest.Audience{Percent: f}, err
	}
	return &wechattest.Audience{OpenIDs: strings.Split(v, ",")}, nil
}

// cmdWeChat drives the sandbox's fault knobs, or POSTs to one of its
// control endpoints as a user's script would, printing the answer, or calls
// its API as another SDK would (call), printing "HTTP STATUS" and the body;
// TOKEN in call's path is replaced by a stable token fetched for it:
//
//	wechat fail CODE N | revoke-at N | revoke | quota N | quota-reset | drop N | post PATH
//	wechat call METHOD PATH [BODY]
//
// call goes to the script's sandbox, or else to the one sandbox-proc
// started.
func cmdWeChat(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: wechat fail CODE N | revoke-at N | revoke | quota N | quota-reset | drop N | post PATH | call METHOD PATH [BODY]")
	}
	if args[0] == "call" {
		callAPI(ts, args)
		return
	}
	s := sim(ts)
	num := func(i int) int {
		if len(args) <= i {
			ts.Fatalf("wechat %s: missing argument", args[0])
		}
		n, err := strconv.Atoi(args[i])
		ts.Check(err)
		return n
	}
	switch args[0] {
	case "fail":
		s.FailNext(num(2), num(1))
	case "revoke-at":
		s.RevokeAt(int64(num(1)))
	case "revoke":
		s.RevokeTokens()
	case "quota":
		s.SetQuota(num(1))
	case "quota-reset":
		s.ResetQuota()
	case "drop":
		s.DropNext(num(1))
	case "post":
		if len(args) != 2 {
			ts.Fatalf("usage: wechat post PATH")
		}
		resp, err := http.Post(s.URL+args[1], "", nil)
		ts.Check(err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		ts.Check(err)
		if resp.StatusCode != http.StatusOK {
			ts.Fatalf("POST %s: %s %s", args[1], resp.Status, body)
		}
		ts.Stdout().Write(body)
	default:
		ts.Fatalf("wechat: unknown action %q", args[0])
	}
}

// callAPI is wechat call: the script's sandbox, or else the one
// sandbox-proc started (MEGASEND_API_BASE).
func callAPI(ts *testscript.TestScript, args []string) {
	if len(args) < 3 || len(args) > 4 {
		ts.Fatalf("usage: wechat call METHOD PATH [BODY]")
	}
	base := ts.Getenv("MEGASEND_API_BASE")
	if h := ts.Value(simKey{}).(*simHolder); h.srv != nil {
		base = h.srv.URL
	}
	if base == "" {
		ts.Fatalf("no sandbox: run 'sandbox' or 'sandbox-proc start' first")
	}
	path := args[2]
	if strings.Contains(path, "TOKEN") {
		path = strings.ReplaceAll(path, "TOKEN", stableToken(ts, base))
	}
	var body io.Reader
	if len(args) == 4 {
		body = strings.NewReader(args[3])
	}
	req, err := http.NewRequest(args[1], base+path, body)
	ts.Check(err)
	resp, err := http.DefaultClient.Do(req)
	ts.Check(err)
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	ts.Check(err)
	fmt.Fprintf(ts.Stdout(), "HTTP %d\n%s", resp.StatusCode, answer)
}

// stableToken fetches a stable access token from the sandbox at base.
func stableToken(ts *testscript.TestScript, base string) string {
	resp, err := http.Post(base+"/cgi-bin/stable_token", "application/json", strings.NewReader(
		`{"grant_type":"client_credential","appid":"`+wechattest.DefaultAppID+`","secret":"`+wechattest.DefaultAppSecret+`"}`))
	ts.Check(err)
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	ts.Check(json.NewDecoder(resp.Body).Decode(&tok))
	if tok.AccessToken == "" {
		ts.Fatalf("stable_token: no token")
	}
	return tok.AccessToken
}

// cmdWeChatSent checks how many messages the sandbox accepted (each
// duplicate client_msg_id counted once, as WeChat delivers it once).
func cmdWeChatSent(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: wechat-sent N")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := len(sim(ts).Deliveries())
	if (got == want) == neg {
		ts.Fatalf("sandbox delivered %d messages; want %s%d", got, map[bool]string{true: "not ", false: ""}[neg], want)
	}
}

// cmdWeChatUnique checks that no openid was delivered twice.
func cmdWeChatUnique(ts *testscript.TestScript, neg bool, args []string) {
	seen := map[string]int{}
	var dups []string
	for _, d := range sim(ts).Deliveries() {
		if seen[d.OpenID]++; seen[d.OpenID] == 2 {
			dups = append(dups, d.OpenID)
		}
	}
	if (len(dups) == 0) == neg {
		ts.Fatalf("duplicate deliveries: %s", fmt.Sprint(dups))
	}
}

// cmdQuietWindow sets $QUIET to quiet hours from now+FROM to now+TO, to the
// second, on Asia/Shanghai's clock (the default timezone):
//
//	quiet-window FROM TO
func cmdQuietWindow(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: quiet-window FROM TO")
	}
	from, err := time.ParseDuration(args[0])
	ts.Check(err)
	to, err := time.ParseDuration(args[1])
	ts.Check(err)
	loc, err := time.LoadLocation("Asia/Shanghai")
	ts.Check(err)
	now := time.Now().In(loc)
	ts.Setenv("QUIET", now.Add(from).Format("15:04:05")+"-"+now.Add(to).Format("15:04:05"))
}
