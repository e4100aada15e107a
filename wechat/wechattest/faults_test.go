package wechattest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestSim_FailNext(t *testing.T) {
	codes := []int{-1, 45011, 40037, 43116, 40164, 48001, 43117, 12345}
	for _, code := range codes {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			srv := mustServer(t, Options{})
			tok := mustToken(t, srv)
			srv.FailNext(2, code)
			for range 2 {
				r := send(t, srv, tok, msg(t, openID1, "f-1", nil))
				wantError(t, r, code)
				if !strings.HasPrefix(r.Errmsg, errmsg(code)+" rid: ") {
					t.Errorf("errmsg %q, want WeChat's %q", r.Errmsg, errmsg(code))
				}
			}
			wantOK(t, send(t, srv, tok, msg(t, openID1, "f-1", nil)))
			if n := len(srv.Deliveries()); n != 1 {
				t.Errorf("%d deliveries, want 1: failed sends are not delivered", n)
			}
			if got := srv.Stats().Rejected[code]; got != 2 {
				t.Errorf("Rejected[%d] = %d, want 2", code, got)
			}
		})
	}
}

func TestSim_FaultsDoNotHideValidation(t *testing.T) {
	srv := mustServer(t, Options{})
	tok := mustToken(t, srv)
	srv.FailNext(1, 45011)
	wantError(t, send(t, srv, tok, msg(t, "bad", "", nil)), 40003)
	wantError(t, send(t, srv, tok, msg(t, openID1, "", nil)), 45011) // still queued
}

func TestSim_HTTPFaults(t *testing.T) {
	tests := []struct {
		name       string
		turn       func(*Sim)
		wantStatus int
		wantBody   string
	}{
		{"FailHTTP500", func(s *Sim) { s.FailHTTP(1, 500) }, 500, "500 Internal Server Error"},
		{"FailHTTP502", func(s *Sim) { s.FailHTTP(1, 502) }, 502, "502 Bad Gateway"},
		{"FailHTTP503", func(s *Sim) { s.FailHTTP(1, 503) }, 503, "503 Service Unavailable"},
		{"HTMLNext", func(s *Sim) { s.HTMLNext(1) }, 200, "<html>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mustServer(t, Options{})
			tok := mustToken(t, srv)
			tt.turn(srv.Sim)
			r := send(t, srv, tok, msg(t, openID1, "h-1", nil))
			if r.Status != tt.wantStatus || !strings.HasPrefix(r.ContentType, "text/html") || !strings.Contains(r.Body, tt.wantBody) {
				t.Errorf("status %d, Content-Type %q, body %q; want %d text/html containing %q",
					r.Status, r.ContentType, r.Body, tt.wantStatus, tt.wantBody)
			}
			if n := len(srv.Deliveries()); n != 0 {
				t.Errorf("%d deliveries, want none", n)
			}
			wantOK(t, send(t, srv, tok, msg(t, openID1, "h-1", nil)))
		})
	}
}

func TestSim_DropNext(t *testing.T) {
	srv := mustServer(t, Options{})
	tok := mustToken(t, srv)
	srv.DropNext(1)

	body := msg(t, openID1, "d-1", nil)
	resp, err := srv.Client().Post(srv.URL+"/cgi-bin/message/template/send?access_token="+tok,
		"application/json", strings.NewReader(body))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got an answer (status %d); want the connection closed", resp.StatusCode)
	}
	got := srv.Deliveries()
	if len(got) != 1 || srv.QuotaUsed() != 1 || srv.Stats().Dropped != 1 {
		t.Fatalf("deliveries %d, quota used %d, dropped %d; want 1, 1, 1",
			len(got), srv.QuotaUsed(), srv.Stats().Dropped)
	}
	// The retry with the same client_msg_id learns the original msgid and
	// nothing is sent twice.
	if id := wantOK(t, send(t, srv, tok, body)); id != got[0].MsgID {
		t.Errorf("retry msgid %d, want the dropped send's %d", id, got[0].MsgID)
	}
	if n := len(srv.Deliveries()); n != 1 {
		t.Errorf("%d deliveries after the retry, want 1", n)
	}
}

func TestSim_StallNext(t *testing.T) {
	// A bare httptest server, so that closing it does not release the
	// stall (Server.Close would): only the client giving up can end it.
	sim := New(Options{Seed: 1})
	ts := httptest.NewServer(sim)
	srv := &Server{Sim: sim, URL: ts.URL, ts: ts}
	tok := mustToken(t, srv)
	srv.StallNext(1, time.Hour)

	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "POST", srv.URL+"/cgi-bin/message/template/send?access_token="+tok,
		strings.NewReader(msg(t, openID1, "s-1", nil)))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatal("got an answer; want the client to time out")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if n := len(srv.Deliveries()); n != 1 {
		t.Errorf("%d deliveries, want 1: a stalled send is delivered", n)
	}
	if srv.Stats().Stalled != 1 {
		t.Errorf("Stalled = %d, want 1", srv.Stats().Stalled)
	}
	// httptest.Server.Close waits for handlers: it returns only if the
	// stalled one noticed its client leave.
	closed := make(chan struct{})
	go func() { ts.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		sim.Close()
		t.Fatal("the stalled handler outlived its client")
	}
}

func TestSim_StallReleasedByClose(t *testing.T) {
	delivered := make(chan struct{}, 1)
	srv := NewServer(Options{Seed: 1, Deliveries: writerFunc(func(p []byte) (int, error) {
		delivered <- struct{}{}
		return len(p), nil
	})})
	tok := mustToken(t, srv)
	srv.StallNext(1, time.Hour)
	done := make(chan reply, 1)
	go func() {
		resp, err := srv.Client().Post(srv.URL+"/cgi-bin/message/template/send?access_token="+tok,
			"application/json", strings.NewReader(`{"touser":"`+openID1+`","template_id":"`+legacyTmpl+`","data":{}}`))
		if err != nil {
			done <- reply{}
			return
		}
		resp.Body.Close()
		done <- reply{Status: resp.StatusCode}
	}()
	// Wait for the send to be held (it is delivered first), then close.
	<-delivered
	closed := make(chan struct{})
	go func() { srv.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close blocked on a stalled answer")
	}
	<-done
}

func TestSim_FailRate(t *testing.T) {
	srv := mustServer(t, Options{FailRate: 1})
	tok := mustToken(t, srv)
	wantError(t, send(t, srv, tok, msg(t, openID1, "", nil)), -1)
	srv.SetFailRate(0)
	wantOK(t, send(t, srv, tok, msg(t, openID1, "", nil)))

	srv.SetFailRate(0.5)
	failed := 0
	for range 200 {
		if send(t, srv, tok, msg(t, openID1, "", nil)).Errcode == -1 {
			failed++
		}
	}
	if failed < 60 || failed > 140 {
		t.Errorf("%d of 200 failed at rate 0.5", failed)
	}
}

func TestSim_SetHook(t *testing.T) {
	srv := mustServer(t, Options{})
	tok := mustToken(t, srv)
	var seen atomic.Int64
	srv.SetHook(func(req SendRequest) *Fault {
		seen.Store(req.N)
		switch {
		case req.ToUser == openID2:
			return &Fault{Errcode: 43019}
		case req.ClientMsgID == "ambiguous":
			// Delivered, yet answered with a system error: what WxJava#2098
			// turned into duplicates.
			return &Fault{Deliver: true, Errcode: -1}
		}
		return nil
	})
	srv.FailNext(1, 45011) // consulted after the hook declines

	wantError(t, send(t, srv, tok, msg(t, openID2, "", nil)), 43019)
	wantError(t, send(t, srv, tok, msg(t, openID1, "", nil)), 45011)
	wantError(t, send(t, srv, tok, msg(t, openID1, "ambiguous", nil)), -1)
	if n := len(srv.Deliveries()); n != 1 {
		t.Errorf("%d deliveries, want 1 (the ambiguous one)", n)
	}
	if seen.Load() != 3 {
		t.Errorf("hook saw request N=%d last, want 3", seen.Load())
	}
	srv.SetHook(nil)
	wantOK(t, send(t, srv, tok, msg(t, openID2, "", nil)))
}

func TestSim_FaultOrder(t *testing.T) {
	srv := mustServer(t, Options{})
	tok := mustToken(t, srv)
	srv.FailNext(1, 45011)
	srv.FailHTTP(1, 502)
	srv.FailNext(1, -1)
	if r := send(t, srv, tok, msg(t, openID1, "", nil)); r.Errcode != 45011 {
		t.Errorf("first: %s", r.Body)
	}
	if r := send(t, srv, tok, msg(t, openID1, "", nil)); r.Status != 502 {
		t.Errorf("second: status %d", r.Status)
	}
	if r := send(t, srv, tok, msg(t, openID1, "", nil)); r.Errcode != -1 {
		t.Errorf("third: %s", r.Body)
	}
	wantOK(t, send(t, srv, tok, msg(t, openID1, "", nil)))
}

func TestSim_Latency(t *testing.T) {
	srv := mustServer(t, Options{})
	tok := mustToken(t, srv)

	t.Run("Fixed", func(t *testing.T) {
		srv.SetLatency(50*time.Millisecond, 0)
		defer srv.SetLatency(0, 0)
		start := time.Now()
		wantOK(t, send(t, srv, tok, msg(t, openID1, "", nil)))
		if d := time.Since(start); d < 50*time.Millisecond {
			t.Errorf("answered in %v, want at least 50ms", d)
		}
	})
	t.Run("ClientGivesUp", func(t *testing.T) {
		srv.SetLatency(time.Hour, 0)
		defer srv.SetLatency(0, 0)
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/cgi-bin/message/template/send?access_token="+tok,
			strings.NewReader(msg(t, openID1, "", nil)))
		if resp, err := srv.Client().Do(req); err == nil {
			resp.Body.Close()
			t.Fatal("want a timeout")
		}
	})
	t.Run("Jitter", func(t *testing.T) {
		s := New(Options{Seed: 7, Latency: 5 * time.Millisecond, LatencyMax: 50 * time.Millisecond})
		lo, hi := time.Hour, time.Duration(0)
		for range 1000 {
			d := s.latencyLocked()
			lo, hi = min(lo, d), max(hi, d)
		}
		if lo < 5*time.Millisecond || hi > 50*time.Millisecond || hi-lo < 30*time.Millisecond {
			t.Errorf("jitter range [%v, %v], want spread inside [5ms, 50ms]", lo, hi)
		}
	})
}

// ClearFaults drops what the queued knobs still hold, and only that: the
// fail rate stays. Issue 20, item 9: nothing could end a burst queued with
// POST /sandbox/fail, and /sandbox/quota/reset left it in place.
func TestSim_ClearFaults(t *testing.T) {
	t.Run("Knobs", func(t *testing.T) {
		srv := mustServer(t, Options{})
		tok := mustToken(t, srv)
		srv.FailNext(3, -1)
		srv.FailHTTP(2, 502)
		srv.DropNext(1)
		srv.StallNext(1, time.Hour)
		wantError(t, send(t, srv, tok, msg(t, openID1, "c-1", nil)), -1)
		if n := srv.Stats().QueuedFaults; n != 6 {
			t.Errorf("QueuedFaults = %d, want 6", n)
		}
		if n := srv.ClearFaults(); n != 6 {
			t.Errorf("ClearFaults = %d, want 6", n)
		}
		wantOK(t, send(t, srv, tok, msg(t, openID1, "c-2", nil)))
		if n := srv.ClearFaults(); n != 0 {
			t.Errorf("ClearFaults again = %d, want 0", n)
		}
		srv.SetFailRate(1)
		srv.FailNext(1, 45011)
		srv.ClearFaults()
		wantError(t, send(t, srv, tok, msg(t, openID1, "c-3", nil)), -1) // the fail rate, not 45011
	})

	t.Run("ControlEndpoint", func(t *testing.T) {
		srv := mustServer(t, Options{})
		tok := mustToken(t, srv)
		ctl := func(path string) reply {
			t.Helper()
			r := do(t, srv.Client(), "POST", srv.URL+path, "")
			if r.Status != http.StatusOK || r.Errcode != 0 || r.Errmsg != "ok" {
				t.Fatalf("POST %s: %d %s", path, r.Status, r.Body)
			}
			return r
		}
		ctl("/sandbox/fail?code=-1&n=300")
		ctl("/sandbox/quota/reset")
		wantError(t, send(t, srv, tok, msg(t, openID1, "c-1", nil)), -1)
		if n := srv.Stats().QueuedFaults; n != 299 {
			t.Fatalf("QueuedFaults after quota/reset = %d, want 299", n)
		}
		if r := ctl("/sandbox/fail/clear"); !strings.Contains(r.Body, `"cleared":299`) {
			t.Errorf("fail/clear answered %s, want cleared 299", r.Body)
		}
		wantOK(t, send(t, srv, tok, msg(t, openID1, "c-2", nil)))
		if r := do(t, srv.Client(), "GET", srv.URL+"/sandbox/fail/clear", ""); r.Status != http.StatusMethodNotAllowed {
			t.Errorf("GET /sandbox/fail/clear: %d, want 405", r.Status)
		}
	})
}
