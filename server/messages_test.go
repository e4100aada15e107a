package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/megasend/megasend/campaign"
	"github.com/megasend/megasend/wechat/wechattest"
)

// decodeMessage decodes a message answer.
func decodeMessage(t testing.TB, w *httptest.ResponseRecorder) campaign.Message {
	t.Helper()
	var m campaign.Message
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil || m.ID == 0 {
		t.Fatalf("not a message (%v): %s", err, w.Body)
	}
	return m
}

// awaitMessage polls message id's trace until cond holds.
func (f *fixture) awaitMessage(id int64, what string, cond func(campaign.Message) bool) campaign.Message {
	f.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		w := f.do("GET", fmt.Sprintf("/v1/messages/%d", id), f.keyA, "", "")
		want(f.t, w, http.StatusOK)
		m := decodeMessage(f.t, w)
		if cond(m) {
			return m
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("message %d never %s: %s", id, what, w.Body)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// messageRows counts the messages in the ledger, of every account.
func (f *fixture) messageRows() int {
	f.t.Helper()
	var n int
	if err := f.db.SQL().QueryRow(`SELECT COUNT(*) FROM messages`).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

func messageBody(openID, name, key string) string {
	return fmt.Sprintf(`{"template":"order","openid":%q,"vars":{"name":%q},"idempotency_key":%q}`, openID, name, key)
}

func TestMessages_SentAndTraced(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.startRunner()
	w := f.do("POST", "/v1/messages", f.keyA, mediaJSON, messageBody(openid(1), "小明", "order-1"))
	want(t, w, http.StatusAccepted)
	m := decodeMessage(t, w)
	if m.State != "pending" || m.Template != "order" || m.OpenID != openid(1) || m.IdempotencyKey != "order-1" {
		t.Fatalf("accepted %+v", m)
	}
	if loc := w.Header().Get("Location"); loc != fmt.Sprintf("/v1/messages/%d", m.ID) {
		t.Errorf("Location %q", loc)
	}
	// The accept's answer is compact JSON on one line (issue 17: indenting
	// cost more than encoding); the fields are the trace's.
	if body := w.Body.String(); strings.Count(body, "\n") != 1 || !strings.HasSuffix(body, "}\n") {
		t.Errorf("answer not one line of JSON: %q", body)
	}
	m = f.awaitMessage(m.ID, "sent", func(m campaign.Message) bool { return m.State == "sent" })
	if m.MsgID == 0 || m.Attempts != 1 || m.DoneAt == nil {
		t.Errorf("sent message %+v", m)
	}
	var states []string
	for _, e := range m.Events {
		states = append(states, e.State)
	}
	if got := strings.Join(states, ","); got != "pending,inflight,sent" {
		t.Errorf("trace %s, want pending,inflight,sent", got)
	}
	d := f.wx.Deliveries()
	if len(d) != 1 || d[0].OpenID != openid(1) || d[0].MsgID != m.MsgID || !strings.Contains(string(d[0].Data), "小明") {
		t.Fatalf("deliveries %+v", d)
	}
}

func TestMessages_Idempotency(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	first := f.do("POST", "/v1/messages", f.keyA, mediaJSON, messageBody(openid(1), "a", "k1"))
	want(t, first, http.StatusAccepted)
	again := f.do("POST", "/v1/messages", f.keyA, mediaJSON, messageBody(openid(1), "a", "k1"))
	want(t, again, http.StatusOK)
	if a, b := decodeMessage(t, first), decodeMessage(t, again); a.ID != b.ID {
		t.Fatalf("the same key gave messages %d and %d", a.ID, b.ID)
	}
	other := f.do("POST", "/v1/messages", f.keyA, mediaJSON, messageBody(openid(1), "b", "k1"))
	want(t, other, http.StatusConflict)
	if e := apiError(t, other); e.Field != "idempotency_key" {
		t.Errorf("conflict about %q", e.Field)
	}
	// A key is the account's: another account's same key is its own message.
	want(t, f.do("POST", "/v1/messages", f.keyB, mediaJSON, messageBody(openid(1), "a", "k1")), http.StatusAccepted)
	// Without a key, every request is a message of its own.
	want(t, f.do("POST", "/v1/messages", f.keyA, mediaJSON, messageBody(openid(1), "a", "")), http.StatusAccepted)
	want(t, f.do("POST", "/v1/messages", f.keyA, mediaJSON, messageBody(openid(1), "a", "")), http.StatusAccepted)
	if n := f.messageRows(); n != 4 {
		t.Errorf("%d messages recorded, want 4", n)
	}
}

// Many clients at once: each gets its own answer from a shared commit, and
// repeats of one key, racing, still make one message.
func TestMessages_ConcurrentAccepts(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	const n = 200
	ids := make([]int64, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			key := fmt.Sprintf("k%d", i)
			if i%4 == 0 {
				key = "shared"
			}
			w := f.do("POST", "/v1/messages", f.keyA, mediaJSON, messageBody(openid(1), "x", key))
			if w.Code != http.StatusAccepted && w.Code != http.StatusOK {
				t.Errorf("status %d: %s", w.Code, w.Body)
				return
			}
			ids[i] = decodeMessage(t, w).ID
		})
	}
	wg.Wait()
	seen := map[int64]bool{}
	for i, id := range ids {
		if i%4 == 0 && id != ids[0] {
			t.Errorf("request %d with the shared key got message %d, want %d", i, id, ids[0])
		}
		seen[id] = true
	}
	if want := n - n/4 + 1; len(seen) != want || f.messageRows() != want {
		t.Errorf("%d ids, %d rows, want %d", len(seen), f.messageRows(), want)
	}
}

func TestMessages_Refused(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	for _, tt := range []struct {
		name, ctype, body string
		status            int
		field             string
	}{
		{"no content type", "", messageBody(openid(1), "a", ""), http.StatusBadRequest, "Content-Type"},
		{"no body", mediaJSON, "", http.StatusBadRequest, ""},
		{"malformed", mediaJSON, `{"template":`, http.StatusBadRequest, ""},
		{"unknown field", mediaJSON, `{"template":"order","openid":"x","to":"y"}`, http.StatusBadRequest, ""},
		{"two objects", mediaJSON, messageBody(openid(1), "a", "") + "{}", http.StatusBadRequest, ""},
		{"vars not an object", mediaJSON, `{"template":"order","openid":"x","vars":[1]}`, http.StatusBadRequest, "vars"},
		{"no template", mediaJSON, fmt.Sprintf(`{"openid":%q,"vars":{"name":"a"}}`, openid(1)), http.StatusUnprocessableEntity, "template"},
		{"unknown template", mediaJSON, fmt.Sprintf(`{"template":"nope","openid":%q,"vars":{"name":"a"}}`, openid(1)), http.StatusUnprocessableEntity, "template"},
		{"no openid", mediaJSON, `{"template":"order","vars":{"name":"a"}}`, http.StatusUnprocessableEntity, "openid"},
		{"bad openid", mediaJSON, `{"template":"order","openid":"o-short","vars":{"name":"a"}}`, http.StatusUnprocessableEntity, "openid"},
		{"missing variable", mediaJSON, fmt.Sprintf(`{"template":"order","openid":%q,"vars":{}}`, openid(1)), http.StatusUnprocessableEntity, "vars.name"},
		{"empty variable", mediaJSON, fmt.Sprintf(`{"template":"order","openid":%q,"vars":{"name":""}}`, openid(1)), http.StatusUnprocessableEntity, "vars.name"},
		{"object variable", mediaJSON, fmt.Sprintf(`{"template":"order","openid":%q,"vars":{"name":{}}}`, openid(1)), http.StatusUnprocessableEntity, "vars.name"},
		{"bad send_at", mediaJSON, fmt.Sprintf(`{"template":"order","openid":%q,"vars":{"name":"a"},"send_at":"tomorrow"}`, openid(1)), http.StatusUnprocessableEntity, "send_at"},
		{"long key", mediaJSON, messageBody(openid(1), "a", strings.Repeat("k", 256)), http.StatusUnprocessableEntity, "idempotency_key"},
		{"over 64 KiB", mediaJSON, messageBody(openid(1), strings.Repeat("a", 70<<10), ""), http.StatusRequestEntityTooLarge, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := f.do("POST", "/v1/messages", f.keyA, tt.ctype, tt.body)
			want(t, w, tt.status)
			if e := apiError(t, w); e.Field != tt.field {
				t.Errorf("field %q, want %q (%s)", e.Field, tt.field, e.Message)
			}
		})
	}
	if n := f.messageRows(); n != 0 {
		t.Errorf("%d messages recorded by refused requests", n)
	}
}

func TestMessages_Scheduled(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.startRunner()
	at := time.Now().Add(1500 * time.Millisecond).UTC().Format(time.RFC3339Nano)
	w := f.do("POST", "/v1/messages", f.keyA, mediaJSON,
		fmt.Sprintf(`{"template":"order","openid":%q,"vars":{"name":"a"},"send_at":%q}`, openid(2), at))
	want(t, w, http.StatusAccepted)
	m := decodeMessage(t, w)
	if m.State != "scheduled" || m.SendAt == nil {
		t.Fatalf("accepted %+v", m)
	}
	// Another message, due now, goes ahead of it.
	now := decodeMessage(t, f.do("POST", "/v1/messages", f.keyA, mediaJSON, messageBody(openid(3), "b", "")))
	f.awaitMessage(now.ID, "sent", func(m campaign.Message) bool { return m.State == "sent" })
	if d := f.wx.Deliveries(); len(d) != 1 {
		t.Fatalf("%d deliveries before send_at, want 1", len(d))
	}
	sent := f.awaitMessage(m.ID, "sent", func(m campaign.Message) bool { return m.State == "sent" })
	if first := sent.Events[1].At; first.Before(*m.SendAt) {
		t.Errorf("first attempt at %v, before send_at %v", first, *m.SendAt)
	}
}

func TestMessages_OtherAccountNotFound(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	m := decodeMessage(t, f.do("POST", "/v1/messages", f.keyA, mediaJSON, messageBody(openid(1), "a", "")))
	for _, tt := range []struct{ path, key string }{
		{fmt.Sprintf("/v1/messages/%d", m.ID), f.keyB},
		{fmt.Sprintf("/v1/messages/%d", m.ID+1), f.keyA},
		{"/v1/messages/abc", f.keyA},
	} {
		w := f.do("GET", tt.path, tt.key, "", "")
		want(t, w, http.StatusNotFound)
	}
}

// A template replaced or removed over the API is what the next message is
// accepted with (or refused for) at once, not after the cache's second.
func TestMessages_TemplateChangedOverTheAPI(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	want(t, f.do("POST", "/v1/messages", f.keyA, mediaJSON, messageBody(openid(1), "a", "")), http.StatusAccepted)
	body := fmt.Sprintf(`{"body":{"touser":"${openid}","template_id":%q,"data":{"keyword1":{"value":"${other}"}}}}`,
		wechattest.DefaultTemplates()[0].TemplateID)
	want(t, f.do("PUT", "/v1/templates/order", f.keyA, mediaJSON, body), http.StatusOK)
	w := f.do("POST", "/v1/messages", f.keyA, mediaJSON, messageBody(openid(1), "a", ""))
	want(t, w, http.StatusUnprocessableEntity)
	if e := apiError(t, w); e.Field != "vars.other" {
		t.Errorf("refused for %q, want vars.other", e.Field)
	}
	want(t, f.do("DELETE", "/v1/templates/order", f.keyA, "", ""), http.StatusNoContent)
	w = f.do("POST", "/v1/messages", f.keyA, mediaJSON, `{"template":"order","openid":"`+openid(1)+`","vars":{"other":"x"}}`)
	want(t, w, http.StatusUnprocessableEntity)
	if e := apiError(t, w); e.Field != "template" {
		t.Errorf("refused for %q, want template", e.Field)
	}
}
