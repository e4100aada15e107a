package campaign

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/template"
	"github.com/megasend/megasend/wechat"
	"github.com/megasend/megasend/wechat/wechattest"
)

const (
	customBody    = `{"touser":"${openid}","msgtype":"text","text":{"content":"你好 ${name}"}}`
	subscribeBody = `{"touser":"${openid}","template_id":"%s","data":{"thing1":{"value":"${name}"}}}`
)

// kindTemplate parses body as a template of kind k.
func kindTemplate(t *testing.T, key, body string, k template.Kind) *template.Template {
	t.Helper()
	tmpl, err := template.Parse(key, "", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return tmpl.WithKind(k)
}

// TestRun_Kinds: each kind goes to its endpoint; the recipients its
// endpoint refuses (45015 outside the window, 43101 not subscribed) fail
// alone, and the report reads each code as its kind's endpoint means it.
func TestRun_Kinds(t *testing.T) {
	in := &wechattest.Audience{OpenIDs: []string{openid(0), openid(1), openid(2)}}
	tests := []struct {
		name string
		kind template.Kind
		body string
		opts wechattest.Options
		code int
	}{
		{"Custom", template.KindCustom, customBody, wechattest.Options{Interacted: in}, 45015},
		{"Subscribe", template.KindSubscribe, subscribeBody, wechattest.Options{Subscribed: in}, 43101},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			srv := wechattest.NewServer(tt.opts)
			t.Cleanup(srv.Close)
			body := tt.body
			if tt.kind == template.KindSubscribe {
				body = fmt.Sprintf(subscribeBody, sandboxTemplateID())
			}
			b := f.create("b", kindTemplate(t, "k", body, tt.kind), 5)
			if b.TemplateKind != string(tt.kind) {
				t.Fatalf("batch kind %q, want %q", b.TemplateKind, tt.kind)
			}
			res := f.run(context.Background(), b, srv, RunOptions{})
			if c := res.Outcome.Counts; c.Sent != 3 || c.Failed != 2 {
				t.Fatalf("counts %+v; want 3 sent, 2 failed", c)
			}
			for _, d := range srv.Deliveries() {
				if d.Kind != string(tt.kind) || d.ClientMsgID != "" || d.MsgID != 0 {
					t.Errorf("delivery %+v; want a %s without client_msg_id or msgid", d, tt.kind)
				}
			}
			if n := delivered(t, srv); n != 3 {
				t.Errorf("%d delivered, want 3", n)
			}
			rep, err := f.svc.Report(context.Background(), "b")
			if err != nil {
				t.Fatal(err)
			}
			meaning, _ := wechat.DescribeKind(wechat.Kind(tt.kind), tt.code)
			if len(rep.Failures) != 1 || rep.Failures[0].Errcode != tt.code || rep.Failures[0].Meaning != meaning ||
				rep.Failures[0].Kind != string(tt.kind) || rep.Failures[0].Class != "recipient" {
				t.Errorf("failures %+v; want %d: %q", rep.Failures, tt.code, meaning)
			}
			err = f.db.Recipients(context.Background(), b.ID, nil, func(r store.Recipient) error {
				if r.Kind != string(tt.kind) || r.MsgID != 0 {
					t.Errorf("line %d: kind %q msgid %d", r.Line, r.Kind, r.MsgID)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestResume_KeepsKind: a batch's kind is its own: a resume sends it again
// to the same endpoint, and a replacement template of another kind is
// refused.
func TestResume_KeepsKind(t *testing.T) {
	f := newFixture(t)
	srv := wechattest.NewServer(wechattest.Options{})
	t.Cleanup(srv.Close)
	b := f.create("b", kindTemplate(t, "k", customBody, template.KindCustom), 4)
	if err := f.svc.Release(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	again := f.resume(ResumeSpec{Name: "b"})
	if again.Template.Kind != template.KindCustom {
		t.Fatalf("resumed template kind %q", again.Template.Kind)
	}
	err := f.svc.ReplaceTemplate(context.Background(), again.Batch, newTemplate(t, "t", sandboxTemplateID()), "t")
	if ErrorCode(err) != Invalid {
		t.Errorf("ReplaceTemplate with a template message = %v; want Invalid", err)
	}
	res := f.run(context.Background(), again, srv, RunOptions{})
	if res.Outcome.Counts.Sent != 4 {
		t.Fatalf("counts %+v", res.Outcome.Counts)
	}
	for _, d := range srv.Deliveries() {
		if d.Kind != wechattest.KindCustom {
			t.Errorf("delivered %s, want custom", d.Kind)
		}
	}
}

// TestRun_Fallback: a customer-service campaign with a template-kind
// fallback reaches every recipient once: those inside the window by the
// customer-service message, the rest (45015) by the fallback, with its own
// client_msg_id. The report counts each kind.
func TestRun_Fallback(t *testing.T) {
	f := newFixture(t)
	in := &wechattest.Audience{OpenIDs: []string{openid(0), openid(2), openid(4)}}
	srv := wechattest.NewServer(wechattest.Options{Interacted: in})
	t.Cleanup(srv.Close)
	custom := kindTemplate(t, "k", customBody, template.KindCustom)
	fb := newTemplate(t, "fb", sandboxTemplateID())
	users := writeUsers(t, f.dir, "u.csv", 6)
	b, _, err := f.svc.Create(context.Background(), Spec{Name: "b", Template: custom, TemplateRef: "k", Source: f.source(users),
		Fallback: fb, FallbackRef: "fb"})
	if err != nil {
		t.Fatal(err)
	}
	res := f.run(context.Background(), b, srv, RunOptions{})
	if c := res.Outcome.Counts; c.Sent != 6 || res.Fallbacks != 3 {
		t.Fatalf("counts %+v, %d fallbacks; want 6 sent, 3 by the fallback", c, res.Fallbacks)
	}
	byKind := map[string]int{}
	for _, d := range srv.Deliveries() {
		byKind[d.Kind]++
		if d.Kind == wechattest.KindTemplate && !strings.HasSuffix(d.ClientMsgID, "-fb") {
			t.Errorf("fallback client_msg_id %q", d.ClientMsgID)
		}
	}
	if n := delivered(t, srv); n != 6 || byKind["custom"] != 3 || byKind["template"] != 3 {
		t.Errorf("%d delivered, by kind %v; want 3 of each", n, byKind)
	}
	rep, err := f.svc.Report(context.Background(), "b")
	if err != nil {
		t.Fatal(err)
	}
	if rep.SentByKind["custom"] != 3 || rep.SentByKind["template"] != 3 || rep.Batch.Fallback != "fb" {
		t.Errorf("report: sent by kind %v, fallback %q", rep.SentByKind, rep.Batch.Fallback)
	}
	// A resume keeps the fallback.
	if err := f.svc.Release(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	again := f.resume(ResumeSpec{Name: "b"})
	if again.Fallback == nil || string(again.Fallback.Body()) != string(fb.Body()) {
		t.Errorf("resumed batch's fallback %v", again.Fallback)
	}
}

// TestCreate_FallbackKinds: a fallback only for a customer-service
// message, and only a template message: anything else is Invalid, naming
// both, and no batch is made.
func TestCreate_FallbackKinds(t *testing.T) {
	custom := kindTemplate(t, "k", customBody, template.KindCustom)
	msg := newTemplate(t, "t", sandboxTemplateID())
	sub := kindTemplate(t, "s", fmt.Sprintf(subscribeBody, "S"), template.KindSubscribe)
	needs := kindTemplate(t, "n", `{"touser":"${openid}","template_id":"T","data":{"keyword1":{"value":"${missing}"}}}`, template.KindTemplate)
	tests := []struct {
		name     string
		tmpl, fb *template.Template
		want     string
	}{
		{"TemplateWithFallback", msg, msg, "template t is of kind template; only a customer-service message"},
		{"CustomFallbackOfCustom", custom, custom, "--fallback fb is of kind custom; the fallback of template k (custom) must be a template message"},
		{"CustomFallbackOfSubscribe", custom, sub, "--fallback fb is of kind subscribe"},
		{"FallbackNeedsAColumn", custom, needs, "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			users := writeUsers(t, f.dir, "u.csv", 3)
			_, _, err := f.svc.Create(context.Background(), Spec{Name: "b", Template: tt.tmpl, TemplateRef: tt.tmpl.Key,
				Source: f.source(users), Fallback: tt.fb, FallbackRef: "fb"})
			if ErrorCode(err) != Invalid || !strings.Contains(errorText(err), tt.want) {
				t.Fatalf("Create = %v; want Invalid with %q", err, tt.want)
			}
			if _, err := f.db.Batch(context.Background(), "b"); err == nil {
				t.Errorf("batch b kept")
			}
		})
	}
}

// errorText is err's message with its problems, if any.
func errorText(err error) string {
	s := err.Error()
	if p := ErrorProblems(err); p != nil {
		for _, q := range p.Sorted() {
			s += "\n" + q.String()
		}
	}
	return s
}
