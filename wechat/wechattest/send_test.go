package wechattest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSend_Errors(t *testing.T) {
	srv := mustServer(t, Options{Unfollowed: []string{openID2}})
	tok := mustToken(t, srv)
	category := func(key, value string) func(map[string]any) {
		return func(m map[string]any) {
			m["template_id"] = categoryTpl
			data := map[string]any{
				"thing1":            map[string]string{"value": "巧克力"},
				"character_string2": map[string]string{"value": "OD20240501001"},
				"phrase3":           map[string]string{"value": "已发货"},
				"time4":             map[string]string{"value": "2024年5月1日 15:01"},
				"amount5":           map[string]string{"value": "¥39.80"},
			}
			data[key] = map[string]string{"value": value}
			m["data"] = data
		}
	}
	tests := []struct {
		name    string
		method  string
		body    string
		want    int
		errmsg  string // a substring of errmsg, if it matters
		wantMsg bool
	}{
		{name: "GET", method: "GET", body: msg(t, openID1, "", nil), want: 43002},
		{name: "EmptyBody", body: "", want: 44002},
		{name: "BlankBody", body: " \n", want: 44002},
		{name: "NotJSON", body: "touser=x", want: 47001},
		{name: "TruncatedJSON", body: `{"touser":"` + openID1, want: 47001},
		{name: "Array", body: "[]", want: 47001},
		{name: "TouserNumber", body: `{"touser":1,"template_id":"` + legacyTmpl + `"}`, want: 47001},
		{name: "DataString", body: msg(t, openID1, "", func(m map[string]any) { m["data"] = "x" }), want: 47001},
		{name: "MiniprogramArray", body: msg(t, openID1, "", func(m map[string]any) { m["miniprogram"] = []any{"wx1"} }), want: 47001},
		{name: "MiniprogramString", body: msg(t, openID1, "", func(m map[string]any) { m["miniprogram"] = "" }), want: 47001},
		{name: "ValueNumber", body: msg(t, openID1, "", func(m map[string]any) {
			m["data"] = map[string]any{"keyword1": map[string]any{"value": 39.8}}
		}), want: 47001},
		{name: "ClientMsgIDTooLong", body: msg(t, openID1, strings.Repeat("x", 65), nil), want: 45067, errmsg: "clientmsgid size out of limit"},
		{name: "NoTemplateID", body: msg(t, openID1, "", func(m map[string]any) { delete(m, "template_id") }), want: 40036},
		{name: "MisspeltTemplateID", body: msg(t, openID1, "", func(m map[string]any) {
			m["temlate_id"] = m["template_id"]
			delete(m, "template_id")
		}), want: 40036},
		{name: "UnknownTemplate", body: msg(t, openID1, "", func(m map[string]any) { m["template_id"] = "ngqIpbwh8bUfcSsECmogfXcV14J0tQlEpBO27izEYtY" }), want: 40037},
		{name: "EmptyOpenID", body: msg(t, "", "", nil), want: 40003},
		{name: "ShortOpenID", body: msg(t, "oAbC", "", nil), want: 40003},
		{name: "OpenIDBadChar", body: msg(t, "oAbCdEfGhIjKlMnOpQrStUvWx+01", "", nil), want: 40003},
		{name: "Unfollowed", body: msg(t, openID2, "", nil), want: 43004, errmsg: "require subscribe"},
		{name: "NoData", body: msg(t, openID1, "", func(m map[string]any) { delete(m, "data") }), want: 47001},
		{name: "NullData", body: msg(t, openID1, "", func(m map[string]any) { m["data"] = nil }), want: 47001},
		{name: "ThingTooLong", body: msg(t, openID1, "", category("thing1", strings.Repeat("长", 21))), want: 47003,
			errmsg: "argument invalid! data.thing1.value invalid"},
		{name: "PhraseNotHan", body: msg(t, openID1, "", category("phrase3", "shipped")), want: 47003,
			errmsg: "data.phrase3.value invalid"},
		{name: "CharacterStringHan", body: msg(t, openID1, "", category("character_string2", "订单1")), want: 47003,
			errmsg: "data.character_string2.value invalid"},
		{name: "CategoryOK", body: msg(t, openID1, "", category("thing1", "巧克力")), wantMsg: true},
		{name: "LegacyLongValue", body: msg(t, openID1, "", func(m map[string]any) {
			m["data"] = map[string]any{"keyword1": map[string]string{"value": strings.Repeat("长", 50)}}
		}), wantMsg: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = "POST"
			}
			r := do(t, srv.Client(), method, srv.URL+"/cgi-bin/message/template/send?access_token="+tok, tt.body)
			if tt.wantMsg {
				wantOK(t, r)
				return
			}
			wantError(t, r, tt.want)
			if !strings.Contains(r.Errmsg, tt.errmsg) {
				t.Errorf("errmsg %q, want it to contain %q", r.Errmsg, tt.errmsg)
			}
		})
	}
	if got, want := srv.Stats().Rejected[47001], int64(10); got != want {
		t.Errorf("Stats.Rejected[47001] = %d, want %d", got, want)
	}
}

func TestSend_WireTolerance(t *testing.T) {
	srv := mustServer(t, Options{})
	tok := mustToken(t, srv)
	tests := []struct {
		name string
		edit func(map[string]any)
	}{
		{"MiniprogramNull", func(m map[string]any) { m["miniprogram"] = nil; m["url"] = "" }},
		{"MiniprogramEmpty", func(m map[string]any) { m["miniprogram"] = map[string]string{"appid": "", "pagepath": ""} }},
		// PHP's json_encode writes an unset jump as an empty array; WeChat
		// takes it as absent (PRODUCT.md, sandbox fidelity: it was 47001).
		{"MiniprogramEmptyArray", func(m map[string]any) { m["miniprogram"] = []any{} }},
		{"URLWithAmpersand", func(m map[string]any) { m["url"] = "https://example.com/o?a=1&b=<2>" }},
		{"ColorsFirstRemark", func(m map[string]any) {
			m["topcolor"] = "#FF0000"
			m["data"] = map[string]any{
				"first":    map[string]string{"value": "您好", "color": "#173177"},
				"keyword1": map[string]string{"value": "巧克力", "color": "red"},
				"remark":   map[string]string{"value": "欢迎再次购买！\n谢谢"},
			}
		}},
		{"NoClientMsgID", func(m map[string]any) { delete(m, "client_msg_id") }},
		{"ClientMsgID64Bytes", func(m map[string]any) { m["client_msg_id"] = strings.Repeat("x", 64) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantOK(t, send(t, srv, tok, msg(t, openID1, "", tt.edit)))
		})
	}
}

func TestSend_AcceptRecordsDelivery(t *testing.T) {
	clock := newFakeClock()
	var file bytes.Buffer
	srv := mustServer(t, Options{Now: clock.Now, Deliveries: &file})
	tok := mustToken(t, srv)

	body := msg(t, openID1, "batch-1/row-1", func(m map[string]any) { m["url"] = "https://example.com/?a=1&b=2" })
	first := wantOK(t, send(t, srv, tok, body))
	second := wantOK(t, send(t, srv, tok, msg(t, openID2, "batch-1/row-2", nil)))
	if second <= first {
		t.Errorf("msgids not increasing: %d then %d", first, second)
	}

	got := srv.Deliveries()
	if len(got) != 2 {
		t.Fatalf("%d deliveries, want 2", len(got))
	}
	d := got[0]
	if d.OpenID != openID1 || d.TemplateID != legacyTmpl || d.ClientMsgID != "batch-1/row-1" ||
		d.MsgID != first || !d.Time.Equal(clock.Now()) {
		t.Errorf("delivery = %+v", d)
	}
	var data map[string]DataValue
	if err := json.Unmarshal(d.Data, &data); err != nil || data["keyword1"].Value != "巧克力" {
		t.Errorf("delivery data %s (%v)", d.Data, err)
	}

	// The file has the same deliveries, one whole JSON line each, with the
	// msgid intact (no float64 on the way).
	lines := strings.Split(strings.TrimSuffix(file.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("deliveries file has %d lines:\n%s", len(lines), file.String())
	}
	var line Delivery
	if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
		t.Fatal(err)
	}
	if line.MsgID != first || line.OpenID != openID1 || !strings.Contains(lines[0], `"msgid":`+fmt.Sprint(first)) {
		t.Errorf("line %s", lines[0])
	}
	for _, key := range []string{`"openid"`, `"template_id"`, `"client_msg_id"`, `"data"`, `"time"`} {
		if !strings.Contains(lines[0], key) {
			t.Errorf("line lacks %s: %s", key, lines[0])
		}
	}
}

func TestSend_Dedup(t *testing.T) {
	clock := newFakeClock()
	srv := mustServer(t, Options{Now: clock.Now})
	tok := mustToken(t, srv)

	orig := wantOK(t, send(t, srv, tok, msg(t, openID1, "m-1", nil)))
	tests := []struct {
		name     string
		advance  time.Duration
		to, id   string
		wantSame bool
	}{
		{"SameInsideWindow", 9*time.Minute + 59*time.Second, openID1, "m-1", true},
		{"OtherOpenID", 0, openID2, "m-1", false},
		{"OtherClientMsgID", 0, openID1, "m-2", false},
		{"SameAfterWindow", time.Second, openID1, "m-1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock.Advance(tt.advance)
			got := wantOK(t, send(t, srv, tok, msg(t, tt.to, tt.id, nil)))
			if (got == orig) != tt.wantSame {
				t.Errorf("msgid %d, original %d: same=%v, want %v", got, orig, got == orig, tt.wantSame)
			}
		})
	}
	st := srv.Stats()
	if st.Accepted != 4 || st.Deduplicated != 1 || st.QuotaUsed != 4 || len(srv.Deliveries()) != 4 {
		t.Errorf("accepted %d, deduplicated %d, quota used %d, deliveries %d; want 4, 1, 4, 4",
			st.Accepted, st.Deduplicated, st.QuotaUsed, len(srv.Deliveries()))
	}

	t.Run("EmptyClientMsgIDNeverDedups", func(t *testing.T) {
		a := wantOK(t, send(t, srv, tok, msg(t, openID2, "", nil)))
		b := wantOK(t, send(t, srv, tok, msg(t, openID2, "", nil)))
		if a == b {
			t.Error("two sends without client_msg_id got the same msgid")
		}
	})
	t.Run("Disabled", func(t *testing.T) {
		srv := mustServer(t, Options{DedupWindow: -1})
		tok := mustToken(t, srv)
		a := wantOK(t, send(t, srv, tok, msg(t, openID1, "m-1", nil)))
		b := wantOK(t, send(t, srv, tok, msg(t, openID1, "m-1", nil)))
		if a == b {
			t.Error("dedup disabled but the msgid repeated")
		}
	})
}

func TestSend_Quota(t *testing.T) {
	clock := newFakeClock()
	srv := mustServer(t, Options{Now: clock.Now, Quota: 2})
	tok := mustToken(t, srv)

	wantOK(t, send(t, srv, tok, msg(t, openID1, "q-1", nil)))
	wantOK(t, send(t, srv, tok, msg(t, openID1, "q-2", nil)))
	r := send(t, srv, tok, msg(t, openID1, "q-3", nil))
	wantError(t, r, 45009)
	if !strings.HasPrefix(r.Errmsg, "reach max api daily quota limit rid: ") {
		t.Errorf("errmsg %q", r.Errmsg)
	}
	// A duplicate is answered even with the quota used: it costs nothing.
	wantOK(t, send(t, srv, tok, msg(t, openID1, "q-1", nil)))
	if got := srv.QuotaUsed(); got != 2 {
		t.Errorf("QuotaUsed = %d, want 2", got)
	}

	srv.ResetQuota()
	wantOK(t, send(t, srv, tok, msg(t, openID1, "q-3", nil)))
	srv.SetQuota(5)
	wantOK(t, send(t, srv, tok, msg(t, openID1, "q-4", nil)))

	srv.SetQuota(2)
	clock.Advance(14 * time.Hour) // midnight in China: a new quota day
	tok = mustToken(t, srv)
	if got := srv.QuotaUsed(); got != 0 {
		t.Errorf("QuotaUsed on a new day = %d, want 0", got)
	}
	wantOK(t, send(t, srv, tok, msg(t, openID1, "q-5", nil)))
}

func TestSend_TemplateIDs(t *testing.T) {
	extra := "Doclyl5uP7Aciu-qZ7mJNPtWkbkYnWBWVja26EGbNyk"
	tests := []struct {
		name string
		ids  []string
		tmpl string
		want int
	}{
		{"Default", nil, categoryTpl, 0},
		{"Registered", []string{extra}, extra, 0},
		{"Unregistered", []string{extra}, "other", 40037},
		{"Any", []string{"any"}, "whatever-id", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mustServer(t, Options{TemplateIDs: tt.ids})
			tok := mustToken(t, srv)
			r := send(t, srv, tok, msg(t, openID1, "", func(m map[string]any) { m["template_id"] = tt.tmpl }))
			if tt.want == 0 {
				wantOK(t, r)
			} else {
				wantError(t, r, tt.want)
			}
		})
	}
}

// TestSend_Concurrent drives many senders at once (run with -race) and
// checks that the deliveries file holds exactly one whole line per
// delivery, with unique msgids.
func TestSend_Concurrent(t *testing.T) {
	var mu sync.Mutex
	var file bytes.Buffer
	w := writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return file.Write(p)
	})
	srv := mustServer(t, Options{Deliveries: w})
	tok := mustToken(t, srv)

	const workers, each = 8, 25
	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() {
			// No t.Fatal off the test goroutine: report and stop.
			for i := range each {
				body := fmt.Sprintf(`{"touser":%q,"template_id":%q,"client_msg_id":"c-%d-%d","data":{"keyword1":{"value":"x"}}}`,
					openID1, legacyTmpl, g, i)
				resp, err := srv.Client().Post(srv.URL+"/cgi-bin/message/template/send?access_token="+tok,
					"application/json", strings.NewReader(body))
				if err != nil {
					t.Error(err)
					return
				}
				var r reply
				err = json.NewDecoder(resp.Body).Decode(&r)
				resp.Body.Close()
				if err != nil || r.Errcode != 0 {
					t.Errorf("send: errcode %d, %v", r.Errcode, err)
					return
				}
			}
		})
	}
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	seen := make(map[int64]bool)
	sc := bufio.NewScanner(&file)
	for sc.Scan() {
		var d Delivery
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatalf("torn line %q: %v", sc.Text(), err)
		}
		if seen[d.MsgID] {
			t.Fatalf("msgid %d twice", d.MsgID)
		}
		seen[d.MsgID] = true
	}
	if len(seen) != workers*each || srv.Stats().Accepted != workers*each {
		t.Errorf("%d lines, %d accepted; want %d", len(seen), srv.Stats().Accepted, workers*each)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
