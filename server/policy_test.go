package server

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/megasend/megasend/wechat/wechattest"
)

// TestCreateBatch_Policies: a batch's "cap" and "quiet_hours" are its own,
// kept with it as campaign's --cap and --quiet-hours are; the cap skips
// whom an earlier batch reached; a bad one is 422 naming the field, and
// nothing is kept.
func TestCreateBatch_Policies(t *testing.T) {
	f := newFixture(t, fixtureOptions{wx: wechattest.Options{}})
	f.startRunner()
	list := func(ids ...int) string {
		var rs []string
		for _, i := range ids {
			rs = append(rs, `{"openid":"`+openid(i)+`","name":"n"}`)
		}
		return "[" + strings.Join(rs, ",") + "]"
	}
	want(t, f.do("POST", "/v1/batches", f.keyA, mediaJSON, `{"name":"first","template":"order","recipients":`+list(0, 1)+`}`), http.StatusCreated)
	f.await("first", "done", func(d batchDoc) bool { return d.Batch.Status == "done" })

	w := f.do("POST", "/v1/batches", f.keyA, mediaJSON,
		`{"name":"second","template":"order","cap":"1/24h","quiet_hours":"off","recipients":`+list(1, 2)+`}`)
	want(t, w, http.StatusCreated)
	d := f.await("second", "done", func(d batchDoc) bool { return d.Batch.Status == "done" })
	if d.Counts.Sent != 1 || d.SkippedReasons["capped"] != 1 {
		t.Errorf("sent %d, skipped %v; want 1 sent, 1 capped", d.Counts.Sent, d.SkippedReasons)
	}
	b, err := f.svc.Find(context.Background(), "second")
	if err != nil {
		t.Fatal(err)
	}
	if p, err := f.db.BatchPolicyOf(context.Background(), b.ID); err != nil || p.Cap != "1/24h" || p.QuietHours != "off" {
		t.Errorf("kept policy %+v, %v; want cap 1/24h, quiet hours off", p, err)
	}

	before := f.batches(t)
	for _, tt := range []struct{ field, body string }{
		{"cap", `{"name":"bad1","template":"order","cap":"0/24h","recipients":` + list(3) + `}`},
		{"quiet_hours", `{"name":"bad2","template":"order","quiet_hours":"25:00-08:00","recipients":` + list(3) + `}`},
	} {
		w := f.do("POST", "/v1/batches", f.keyA, mediaJSON, tt.body)
		want(t, w, http.StatusUnprocessableEntity)
		if !strings.Contains(w.Body.String(), `"field": "`+tt.field+`"`) {
			t.Errorf("422 without field %s: %s", tt.field, w.Body)
		}
	}
	w = f.do("POST", "/v1/batches?name=bad3&template=order&cap=x", f.keyA, mediaCSV, "openid,name\n"+openid(3)+",n\n")
	want(t, w, http.StatusUnprocessableEntity)
	if n := f.batches(t); n != before {
		t.Errorf("%d batches after the refusals, want %d", n, before)
	}
	if n := len(f.wx.Deliveries()); n != 3 {
		t.Errorf("%d delivered, want 3", n)
	}
}
