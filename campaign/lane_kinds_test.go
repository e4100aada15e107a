package campaign

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/wechat/wechattest"
)

// TestLane_Kinds: a single message goes to its template's endpoint, as a
// batch's recipient does — a customer-service message to custom/send (45015
// outside the window), a subscribe notification to subscribe/bizsend (43101
// when not subscribed) — and one left inflight by a dead process is not
// resent: WeChat deduplicates neither kind.
func TestLane_Kinds(t *testing.T) {
	f := newFixture(t)
	srv := wechattest.NewServer(wechattest.Options{
		Interacted: &wechattest.Audience{OpenIDs: []string{openid(1), openid(5)}},
		Subscribed: &wechattest.Audience{OpenIDs: []string{openid(3)}},
	})
	t.Cleanup(srv.Close)
	ctx := context.Background()
	for _, st := range []store.Template{
		{Key: "text", Kind: "custom", Body: []byte(customBody)},
		{Key: "sub", Kind: "subscribe", Body: []byte(fmt.Sprintf(subscribeBody, sandboxTemplateID()))},
	} {
		if err := f.db.PutTemplate(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	accept := func(key string, n int) Message {
		t.Helper()
		m, _, err := f.svc.Accept(ctx, MessageSpec{Account: "a", Template: key, OpenID: openid(n),
			Vars: map[string]string{"name": fmt.Sprint("user ", n)}})
		if err != nil {
			t.Fatalf("accept %s to %d: %v", key, n, err)
		}
		return m
	}
	inside, outside, subscribed, not := accept("text", 1), accept("text", 2), accept("sub", 3), accept("sub", 4)
	dead := accept("text", 5)
	if _, err := f.db.BeginMessage(ctx, dead.ID, 0, time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}

	f.startRunner(srv)
	f.awaitMessage(inside.ID, "sent", stateIs(store.StateSent))
	f.awaitMessage(subscribed.ID, "sent", stateIs(store.StateSent))
	for _, tt := range []struct {
		m    Message
		code int64
	}{{outside, 45015}, {not, 43101}} {
		m := f.awaitMessage(tt.m.ID, "failed", stateIs(store.StateFailed))
		if m.Errcode != tt.code {
			t.Errorf("message to %s failed with %v, want %d", m.OpenID, m.Errcode, tt.code)
		}
	}
	m := f.awaitMessage(dead.ID, "unknown", stateIs(store.StateUnknown))
	if !strings.Contains(lastDetail(m), "does not deduplicate") {
		t.Errorf("unknown because %q", lastDetail(m))
	}
	kinds := map[string]string{}
	for _, d := range srv.Deliveries() {
		if kinds[d.OpenID] != "" {
			t.Errorf("%s delivered twice", d.OpenID)
		}
		kinds[d.OpenID] = d.Kind
	}
	if len(kinds) != 2 || kinds[openid(1)] != "custom" || kinds[openid(3)] != "subscribe" {
		t.Errorf("delivered %v, want openid 1 as custom and 3 as subscribe", kinds)
	}
}

// TestLane_KindAmbiguous: a customer-service message whose answer was lost
// after WeChat took it is not resent (it would be delivered twice): it
// ends unknown, delivered once.
func TestLane_KindAmbiguous(t *testing.T) {
	f := newFixture(t)
	srv := wechattest.NewServer(wechattest.Options{})
	t.Cleanup(srv.Close)
	srv.DropNext(1)
	ctx := context.Background()
	if err := f.db.PutTemplate(ctx, store.Template{Key: "text", Kind: "custom", Body: []byte(customBody)}); err != nil {
		t.Fatal(err)
	}
	m, _, err := f.svc.Accept(ctx, MessageSpec{Account: "a", Template: "text", OpenID: openid(1), Vars: map[string]string{"name": "n"}})
	if err != nil {
		t.Fatal(err)
	}
	f.startRunner(srv)
	m = f.awaitMessage(m.ID, "unknown", stateIs(store.StateUnknown))
	if m.Attempts != 1 || !strings.Contains(lastDetail(m), "not resent") {
		t.Errorf("%d attempts, unknown because %q; want 1, not resent", m.Attempts, lastDetail(m))
	}
	if n := delivered(t, srv); n != 1 {
		t.Errorf("%d delivered, want 1", n)
	}
}
