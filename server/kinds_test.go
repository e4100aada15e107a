package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/megasend/megasend/wechat/wechattest"
)

// TestCreateBatch_Fallback: a batch's "fallback" is sent to whom its
// customer-service template cannot reach; a fallback to anything but a
// customer-service message is 422, and nothing is kept.
func TestCreateBatch_Fallback(t *testing.T) {
	in := &wechattest.Audience{OpenIDs: []string{openid(0), openid(1)}}
	f := newFixture(t, fixtureOptions{wx: wechattest.Options{Interacted: in}})
	w := f.do("PUT", "/v1/templates/text", f.keyA, mediaJSON,
		`{"kind":"custom","body":{"touser":"${openid}","msgtype":"text","text":{"content":"你好 ${name}"}}}`)
	want(t, w, http.StatusCreated)
	if !strings.Contains(w.Body.String(), `"kind": "custom"`) {
		t.Errorf("template doc without its kind: %s", w.Body)
	}
	f.startRunner()
	recipients := `[{"openid":"` + openid(0) + `","name":"a"},{"openid":"` + openid(1) + `","name":"b"},{"openid":"` + openid(2) + `","name":"c"}]`

	w = f.do("POST", "/v1/batches", f.keyA, mediaJSON, `{"name":"bad","template":"order","fallback":"order","recipients":`+recipients+`}`)
	want(t, w, http.StatusUnprocessableEntity)
	if !strings.Contains(w.Body.String(), "only a customer-service message") {
		t.Errorf("422 without the reason: %s", w.Body)
	}

	w = f.do("POST", "/v1/batches", f.keyA, mediaJSON, `{"name":"fb","template":"text","fallback":"order","recipients":`+recipients+`}`)
	want(t, w, http.StatusCreated)
	d := f.await("fb", "done", func(d batchDoc) bool { return d.Batch.Status == "done" })
	if d.SentByKind["custom"] != 2 || d.SentByKind["template"] != 1 || d.Batch.Fallback != "order" {
		t.Errorf("sent by kind %v, fallback %q; want 2 custom, 1 template", d.SentByKind, d.Batch.Fallback)
	}
	kinds := map[string]string{}
	for _, dl := range f.wx.Deliveries() {
		if kinds[dl.OpenID] != "" {
			t.Errorf("%s delivered twice", dl.OpenID)
		}
		kinds[dl.OpenID] = dl.Kind
	}
	if kinds[openid(0)] != "custom" || kinds[openid(1)] != "custom" || kinds[openid(2)] != "template" {
		t.Errorf("delivered %v", kinds)
	}
}
