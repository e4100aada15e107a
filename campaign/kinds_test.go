package campaign

import (
	"context"
	"fmt"
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
