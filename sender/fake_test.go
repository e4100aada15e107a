package sender

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/megasend/megasend/store"
)

// fakeLedger is an in-memory Source and Journal that mirrors the store's
// semantics: Pending pages by line, Begin marks inflight, Finish records.
type fakeLedger struct {
	mu   sync.Mutex
	rows []store.Recipient // index = line-1
	late int               // outcomes marked Late
}

func newFakeLedger(n int) *fakeLedger {
	l := &fakeLedger{}
	for i := 1; i <= n; i++ {
		l.rows = append(l.rows, store.Recipient{
			Line: int64(i), OpenID: fmt.Sprintf("user%04d", i), State: store.StatePending,
			ClientMsgID: fmt.Sprintf("ms-test-%d", i),
		})
	}
	return l
}

func (l *fakeLedger) Pending(_ context.Context, _, after int64, limit int) ([]store.Recipient, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []store.Recipient
	for _, r := range l.rows {
		if r.Line > after && r.State == store.StatePending && len(out) < limit {
			out = append(out, r)
		}
	}
	return out, nil
}

func (l *fakeLedger) Begin(_ context.Context, line int64, at time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := &l.rows[line-1]
	r.State = store.StateInflight
	r.Attempts++
	if r.FirstAttemptAt.IsZero() {
		r.FirstAttemptAt = at
	}
	r.LastAttemptAt = at
	return nil
}

func (l *fakeLedger) Finish(o store.Outcome) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := &l.rows[o.Line-1]
	r.State, r.Errcode, r.Errmsg, r.MsgID = o.State, o.Errcode, o.Errmsg, o.MsgID
	if o.Late {
		l.late++
	}
}

func (l *fakeLedger) Fallback(_ context.Context, line int64, kind string, code int, msg string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := &l.rows[line-1]
	r.State, r.Kind, r.Errcode, r.Errmsg, r.FirstAttemptAt = store.StatePending, kind, code, msg, time.Time{}
	return nil
}

func (l *fakeLedger) lateCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.late
}

func (l *fakeLedger) state(openid string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.rows {
		if r.OpenID == openid {
			return r.State
		}
	}
	return ""
}

func (l *fakeLedger) counts() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := map[string]int{}
	for _, r := range l.rows {
		m[r.State]++
	}
	return m
}

func (l *fakeLedger) row(line int64) store.Recipient {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rows[line-1]
}

// fakeRenderer renders the openid and client_msg_id, which is all the fake
// client needs.
type fakeRenderer struct{}

func (fakeRenderer) Render(dst []byte, r *store.Recipient) ([]byte, error) {
	b, err := json.Marshal(map[string]string{"touser": r.OpenID, "client_msg_id": r.ClientMsgID})
	return append(dst, b...), err
}

// fakeClient answers each send with respond(openid, call number for that
// openid, call number overall), and checks the row is durably inflight
// before its request "leaves".
type fakeClient struct {
	t       *testing.T
	ledger  *fakeLedger
	respond func(openid string, attempt, call int) (int64, error)

	mu       sync.Mutex
	calls    int
	attempts map[string]int
	last     map[string]time.Time // each openid's last call
	sent     []string             // openids accepted, in order
	sentAt   []time.Time          // and when
}

func (c *fakeClient) SendTemplateBody(ctx context.Context, body []byte) (int64, error) {
	var m map[string]string
	if err := json.Unmarshal(body, &m); err != nil {
		c.t.Errorf("body %s: %v", body, err)
	}
	openid := m["touser"]
	if st := c.ledger.state(openid); st != store.StateInflight {
		c.t.Errorf("send to %s while its row is %s, want inflight", openid, st)
	}
	c.mu.Lock()
	c.calls++
	if c.attempts == nil {
		c.attempts, c.last = map[string]int{}, map[string]time.Time{}
	}
	c.attempts[openid]++
	c.last[openid] = time.Now()
	attempt, call := c.attempts[openid], c.calls
	c.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	time.Sleep(10 * time.Millisecond) // WeChat's latency, on the bubble's clock
	msgid, err := c.respond(openid, attempt, call)
	if err == nil {
		c.mu.Lock()
		c.sent = append(c.sent, openid)
		c.sentAt = append(c.sentAt, time.Now())
		c.mu.Unlock()
	}
	return msgid, err
}

// SendCustomBody and SendSubscribeBody answer as SendTemplateBody does,
// without the msgid.
func (c *fakeClient) SendCustomBody(ctx context.Context, body []byte) error {
	_, err := c.SendTemplateBody(ctx, body)
	return err
}

func (c *fakeClient) SendSubscribeBody(ctx context.Context, body []byte) error {
	_, err := c.SendTemplateBody(ctx, body)
	return err
}

func (c *fakeClient) totalCalls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

// sentBetween counts the sends accepted in [from, to).
func (c *fakeClient) sentBetween(from, to time.Time) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, at := range c.sentAt {
		if !at.Before(from) && at.Before(to) {
			n++
		}
	}
	return n
}

func (c *fakeClient) lastCall(openid string) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last[openid]
}

func (c *fakeClient) sentOpenIDs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sent)
}
