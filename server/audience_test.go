package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/megasend/megasend/wechat"
	"github.com/megasend/megasend/wechat/wechattest"
)

// TestCreateBatch_Audience: a JSON batch that names an audience is paged in
// the request: the 201 counts the tag's followers, each sent once with the
// shared variables; the same request again is the same batch.
func TestCreateBatch_Audience(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.startRunner()
	req := `{"name":"beta","template":"order","audience":"tag:内测用户","set":{"name":"大家, 好"}}`
	w := f.do("POST", "/v1/batches", f.keyA, mediaJSON, req)
	want(t, w, http.StatusCreated)
	if d := decodeBatch(t, w); d.Counts.Total != 20 || !strings.Contains(d.Batch.Source, "tag:101 (内测用户) --set name=大家, 好") {
		t.Fatalf("created %+v, source %q; want the tag's 20 followers", d.Counts, d.Batch.Source)
	}
	f.await("beta", "done", func(d batchDoc) bool { return d.Batch.Status == "done" })
	w = f.do("POST", "/v1/batches", f.keyA, mediaJSON, req)
	want(t, w, http.StatusOK)
	ds := f.wx.Deliveries()
	seen := map[string]bool{}
	for _, d := range ds {
		if seen[d.OpenID] || !strings.Contains(string(d.Data), "大家, 好") {
			t.Errorf("delivery %s %s: want each once, with the shared name", d.OpenID, d.Data)
		}
		seen[d.OpenID] = true
	}
	if len(ds) != 20 {
		t.Errorf("%d delivered, want 20", len(ds))
	}
}

// TestCreateBatch_AudienceWithin: recipients and an audience together are
// the recipients who follow.
func TestCreateBatch_AudienceWithin(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	c, err := wechat.New(wechat.Config{AppID: wechattest.DefaultAppID, AppSecret: wechattest.DefaultAppSecret, BaseURL: f.wx.URL})
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.FollowersPage(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	req := fmt.Sprintf(`{"name":"within","template":"order","audience":"followers","recipients":[
		{"openid":%q,"name":"a"},{"openid":%q,"name":"b"},{"openid":%q,"name":"gone"}]}`, p.OpenIDs[0], p.OpenIDs[1], openid(1))
	w := f.do("POST", "/v1/batches", f.keyA, mediaJSON, req)
	want(t, w, http.StatusCreated)
	if d := decodeBatch(t, w); d.Counts.Total != 2 {
		t.Errorf("created %+v; want the 2 recipients who follow", d.Counts)
	}
}

// TestCreateBatch_AudienceRefused: an unknown tag, a bad audience, a set
// that leaves the template short or is not strings, a set without an
// audience: refused, and nothing recorded.
func TestCreateBatch_AudienceRefused(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	for _, c := range []struct {
		body   string
		status int
		field  string
		msg    string
	}{
		{`{"name":"x","template":"order","audience":"tag:nobody","set":{"name":"n"}}`, 422, "audience", "VIP客户 (id 100"},
		{`{"name":"x","template":"order","audience":"fans","set":{"name":"n"}}`, 422, "audience", "want followers, tag:NAME or tag:ID"},
		{`{"name":"x","template":"order","audience":"followers"}`, 422, "", "nothing was sent"},
		{`{"name":"x","template":"order","audience":"followers","set":{"openid":"o"}}`, 422, "set", "openid is each recipient's own"},
		{`{"name":"x","template":"order","audience":"followers","set":{"name":1}}`, 400, "set.name", "want a string"},
		{`{"name":"x","template":"order","set":{"name":"n"},"recipients":[{"openid":"` + openid(1) + `"}]}`, 422, "set", `"set" gives the variables an "audience" shares`},
		{`{"name":"x","template":"order","audience":"followers","set":{"name":"n"},"recipients":[{"openid":"` + openid(1) + `"}]}`, 422, "", "none of its 1 recipient is in audience followers"},
	} {
		w := f.do("POST", "/v1/batches", f.keyA, mediaJSON, c.body)
		want(t, w, c.status)
		e := apiError(t, w)
		if e.Field != c.field || !strings.Contains(e.Message+fmt.Sprint(e.Problems), c.msg) {
			t.Errorf("%s: %+v; want field %q saying %q", c.body, e, c.field, c.msg)
		}
	}
	if n := f.batches(t); n != 0 {
		t.Errorf("%d batches recorded by refused requests", n)
	}
	if n := len(f.wx.Deliveries()); n != 0 {
		t.Errorf("%d sent", n)
	}
}
