package wechattest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkDecodeSend decodes a body as megasend renders it: by
// decodeSendBody, which takes the fast path, and by the encoding/json
// reference path it replaces.
func BenchmarkDecodeSend(b *testing.B) {
	body := renderedBody(b)
	paths := []struct {
		name   string
		decode func([]byte) (SendRequest, json.RawMessage, int)
	}{
		{name: "Fast", decode: decodeSendBody},
		{name: "JSON", decode: decodeSendJSON},
	}
	for _, p := range paths {
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, _, code := p.decode(body); code != 0 {
					b.Fatalf("errcode %d", code)
				}
			}
		})
	}
}

// BenchmarkServeSend is the simulator's whole template/send handler for a
// rendered body, as `megasend sandbox` runs it minus the network: token
// check, decode, validation, dedup and the answer. Every iteration repeats
// one client_msg_id, so after the first the send is a duplicate: the
// deliveries list stays empty instead of growing with b.N.
func BenchmarkServeSend(b *testing.B) {
	sim := New(Options{Seed: 1})
	tok := benchToken(b, sim)
	body := renderedBody(b)
	r := httptest.NewRequest(http.MethodPost, "/cgi-bin/message/template/send?access_token="+tok, nil)
	w := &benchWriter{h: make(http.Header)}
	b.ReportAllocs()
	for b.Loop() {
		r.Body = io.NopCloser(bytes.NewReader(body))
		clear(w.h)
		w.buf.Reset()
		sim.ServeHTTP(w, r)
	}
	var got struct {
		Errcode int `json:"errcode"`
	}
	if err := json.Unmarshal(w.buf.Bytes(), &got); err != nil || got.Errcode != 0 {
		b.Fatalf("last answer %s (%v), want errcode 0", w.buf.Bytes(), err)
	}
}

// benchToken fetches a stable token from sim without a listener.
func benchToken(b *testing.B, sim *Sim) string {
	b.Helper()
	rec := httptest.NewRecorder()
	sim.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/cgi-bin/stable_token", strings.NewReader(
		`{"grant_type":"client_credential","appid":"`+DefaultAppID+`","secret":"`+DefaultAppSecret+`"}`)))
	var resp struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || resp.AccessToken == "" {
		b.Fatalf("stable_token: %s (%v)", rec.Body.Bytes(), err)
	}
	return resp.AccessToken
}

// benchWriter is an http.ResponseWriter that keeps the last answer and costs
// next to nothing, so that the benchmark measures the handler.
type benchWriter struct {
	h   http.Header
	buf bytes.Buffer
}

func (w *benchWriter) Header() http.Header         { return w.h }
func (w *benchWriter) WriteHeader(int)             {}
func (w *benchWriter) Write(p []byte) (int, error) { return w.buf.Write(p) }
