package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/megasend/megasend/campaign"
	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/wechat/wechattest"
)

// TestCreateBatch_Refused: every request that cannot make a batch is
// answered with its status, code and field, and records nothing (no batch,
// no spool file).
func TestCreateBatch_Refused(t *testing.T) {
	bad := "openid,name\n" + openid(0) + ",a\nnot-an-openid,b\n" + openid(2) + ",\n"
	for _, c := range []struct {
		name, path, ctype, body string
		status                  int
		code, field             string
		problems                []problemDoc
	}{
		{name: "NoContentType", path: "/v1/batches", body: `{}`, status: 400, code: "unsupported_media_type", field: "Content-Type"},
		{name: "OtherContentType", path: "/v1/batches", ctype: "text/plain", body: `x`, status: 400, code: "unsupported_media_type"},
		{name: "MalformedJSON", path: "/v1/batches", ctype: "application/json", body: `{"name":"x",`, status: 400, code: "bad_request"},
		{name: "NotAnObject", path: "/v1/batches", ctype: "application/json", body: `[1]`, status: 400, code: "bad_request"},
		{name: "UnknownField", path: "/v1/batches", ctype: "application/json", body: `{"name":"x","tmpl":"order"}`, status: 400, code: "bad_request", field: "tmpl"},
		{name: "FieldTwice", path: "/v1/batches", ctype: "application/json", body: `{"name":"x","name":"y"}`, status: 400, field: "name", code: "bad_request"},
		{name: "NameNotString", path: "/v1/batches", ctype: "application/json", body: `{"name":7}`, status: 400, field: "name", code: "bad_request"},
		{name: "TrailingData", path: "/v1/batches", ctype: "application/json",
			body: `{"name":"x","template":"order","recipients":[{"openid":"` + openid(0) + `","name":"a"}]} {}`, status: 400, code: "bad_request"},
		{name: "RecipientsNotArray", path: "/v1/batches", ctype: "application/json", body: `{"recipients":{}}`, status: 400, field: "recipients", code: "bad_request"},
		{name: "QueryOnJSON", path: "/v1/batches?name=x", ctype: "application/json", body: `{}`, status: 400, code: "bad_request"},
		{name: "UnknownQuery", path: "/v1/batches?name=x&template=order&batch=y", ctype: "text/csv", body: usersCSV(1), status: 400, field: "batch", code: "bad_request"},
		{name: "NoName", path: "/v1/batches?template=order", ctype: "text/csv", body: usersCSV(1), status: 422, code: "invalid", field: "name"},
		{name: "BadName", path: "/v1/batches?name=a%2Fb&template=order", ctype: "text/csv", body: usersCSV(1), status: 422, code: "invalid", field: "name"},
		{name: "NoTemplate", path: "/v1/batches?name=x", ctype: "text/csv", body: usersCSV(1), status: 422, code: "invalid", field: "template"},
		{name: "UnknownTemplate", path: "/v1/batches?name=x&template=nosuch", ctype: "text/csv", body: usersCSV(1), status: 422, code: "invalid", field: "template"},
		{name: "BadSendAt", path: "/v1/batches?name=x&template=order&send_at=tomorrow", ctype: "text/csv", body: usersCSV(1), status: 422, code: "invalid", field: "send_at"},
		{name: "NoRecipients", path: "/v1/batches", ctype: "application/json", body: `{"name":"x","template":"order"}`, status: 422, code: "invalid", field: "recipients"},
		{name: "EmptyRecipients", path: "/v1/batches", ctype: "application/json", body: `{"name":"x","template":"order","recipients":[]}`, status: 422, code: "invalid", field: "recipients"},
		{name: "EmptyCSV", path: "/v1/batches?name=x&template=order", ctype: "text/csv", body: "", status: 422, code: "invalid"},
		{name: "BadRowsCSV", path: "/v1/batches?name=x&template=order", ctype: "text/csv", body: bad, status: 422, code: "invalid",
			problems: []problemDoc{
				{File: "request body", Line: 3, Field: "openid"},
				{File: "request body", Line: 4, Field: "name"},
			}},
		{name: "BadRowsJSON", path: "/v1/batches", ctype: "application/json", status: 422, code: "invalid",
			body:     `{"name":"x","template":"order","recipients":[{"openid":"` + openid(0) + `","name":"a"},{"openid":"` + openid(1) + `"}]}`,
			problems: []problemDoc{{File: "recipients", Line: 2, Field: "name"}}},
		{name: "CSVAsJSONL", path: "/v1/batches?name=x&template=order", ctype: "application/x-ndjson", body: usersCSV(1), status: 422, code: "invalid"},
		{name: "OverLimit", path: "/v1/batches?name=x&template=order", ctype: "text/csv", body: usersCSV(100), status: 413, code: "too_large"},
		{name: "OverLimitJSON", path: "/v1/batches", ctype: "application/json", status: 413, code: "too_large",
			body: `{"name":"x","template":"order","recipients":[` + strings.Repeat(`{"openid":"`+openid(0)+`","name":"a"},`, 100) + `]}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, fixtureOptions{maxBody: 2048})
			w := f.do("POST", c.path, f.keyA, c.ctype, c.body)
			want(t, w, c.status)
			e := apiError(t, w)
			if e.Code != c.code || c.field != "" && e.Field != c.field {
				t.Errorf("error %+v; want code %s, field %q", e, c.code, c.field)
			}
			if len(e.Problems) != len(c.problems) && c.problems != nil {
				t.Fatalf("problems %+v; want %d", e.Problems, len(c.problems))
			}
			for i, p := range c.problems {
				if got := e.Problems[i]; got.File != p.File || got.Line != p.Line || got.Field != p.Field || got.Problem == "" {
					t.Errorf("problem %d: %+v; want %+v", i, got, p)
				}
			}
			if n := f.batches(t); n != 0 {
				t.Errorf("%d batches recorded", n)
			}
			if left := f.spoolLeft(); len(left) > 0 {
				t.Errorf("spool files left: %v", left)
			}
		})
	}
}

// TestCreateBatch_SameName: 201 with the batch and its Location; the same
// name and content again, 200 with the same batch; other content, 409.
// For a JSON body the content is its recipients, however they are spaced.
func TestCreateBatch_SameName(t *testing.T) {
	for _, c := range []struct {
		name, path, ctype, body, again, other string
	}{
		{"CSV", "/v1/batches?name=b1&template=order", "text/csv", usersCSV(3), usersCSV(3), usersCSV(4)},
		{"JSONL", "/v1/batches?name=b1&template=order", "application/x-ndjson",
			jsonl(3), jsonl(3), jsonl(2)},
		{"JSON", "/v1/batches", "application/json", jsonBatch("b1", 3, ""), jsonBatch("b1", 3, "\n  "), jsonBatch("b1", 2, "")},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, fixtureOptions{})
			w := f.do("POST", c.path, f.keyA, c.ctype, c.body)
			want(t, w, http.StatusCreated)
			if loc := w.Header().Get("Location"); loc != "/v1/batches/b1" {
				t.Errorf("Location %q", loc)
			}
			d := decodeBatch(t, w)
			if d.Batch.Name != "b1" || d.Counts.Total != 3 || d.Counts.Pending != 3 || d.Batch.Account != "a" || d.Batch.Source != "-" {
				t.Errorf("created %+v %+v", d.Batch, d.Counts)
			}
			if d.Schedule.State != "queued" {
				t.Errorf("schedule %+v; want queued (no runner)", d.Schedule)
			}
			w = f.do("POST", c.path, f.keyA, c.ctype, c.again)
			want(t, w, http.StatusOK)
			if d := decodeBatch(t, w); d.Batch.Name != "b1" || d.Counts.Total != 3 {
				t.Errorf("again: %+v", d.Batch)
			}
			w = f.do("POST", c.path, f.keyA, c.ctype, c.other)
			want(t, w, http.StatusConflict)
			if e := apiError(t, w); e.Code != "conflict" {
				t.Errorf("other content: %+v", e)
			}
			if n := f.batches(t); n != 1 {
				t.Errorf("%d batches; want 1", n)
			}
		})
	}
}

func jsonl(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"openid":%q,"name":"name %d"}`+"\n", openid(i), i)
	}
	return b.String()
}

// jsonBatch is a JSON batch request of n recipients, with sep between
// the elements of its array.
func jsonBatch(name string, n int, sep string) string {
	var rs []string
	for i := range n {
		rs = append(rs, fmt.Sprintf(`{"openid": %q, "name": "name %d"}`, openid(i), i))
	}
	return fmt.Sprintf(`{"template":"order","recipients":[%s%s],"name":%q}`, sep, strings.Join(rs, ","+sep), name)
}

// TestCreateBatch_SendAt: a batch with send_at in the future waits,
// scheduled, until then.
func TestCreateBatch_SendAt(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.startRunner()
	at := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	w := f.do("POST", "/v1/batches?name=later&template=order&send_at="+at.Format(time.RFC3339), f.keyA, "text/csv", usersCSV(2))
	want(t, w, http.StatusCreated)
	d := decodeBatch(t, w)
	if d.Schedule.State != "scheduled" || d.Schedule.NotBefore == nil || !d.Schedule.NotBefore.Equal(at) {
		t.Errorf("schedule %+v; want scheduled for %v", d.Schedule, at)
	}
	time.Sleep(100 * time.Millisecond)
	if d := f.await("later", "read", func(batchDoc) bool { return true }); d.Counts.Sent != 0 {
		t.Errorf("sent before its time: %+v", d.Counts)
	}
}

// TestGetBatch: a batch is sent by the runner; its answer is the report's
// JSON, as report --format json writes it, with the schedule beside; the
// recipients stream as JSONL, filtered by state.
func TestGetBatch(t *testing.T) {
	f := newFixture(t, fixtureOptions{wx: wechattest.Options{Unfollowed: []string{openid(1)}}})
	f.startRunner()
	want(t, f.do("POST", "/v1/batches", f.keyA, "application/json", jsonBatch("b1", 4, "")), http.StatusCreated)
	d := f.await("b1", "done", func(d batchDoc) bool { return d.Batch.Status == store.StatusDone })
	if c := d.Counts; c.Sent != 3 || c.Failed != 1 || d.Receipts.Awaiting != 3 || d.Schedule.State != "done" {
		t.Errorf("done: %+v, receipts %+v, schedule %+v", c, d.Receipts, d.Schedule)
	}

	w := f.do("GET", "/v1/batches/b1", f.keyA, "", "")
	rep, err := f.svc.Report(context.Background(), "b1")
	if err != nil {
		t.Fatal(err)
	}
	var cli bytes.Buffer
	enc := json.NewEncoder(&cli)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	enc.Encode(rep)
	// The answer is the report's document with "schedule" after its last
	// key: cut it out and the rest must be the same bytes.
	got := w.Body.String()
	i := strings.Index(got, ",\n  \"schedule\": {")
	if i < 0 {
		t.Fatalf("no schedule: %s", got)
	}
	end := strings.Index(got[i:], "\n  }") + i + len("\n  }")
	if cut := got[:i] + got[end:]; cut != cli.String() {
		t.Errorf("answer without the schedule:\n%s\nreport --format json:\n%s", cut, cli.String())
	}

	w = f.do("GET", "/v1/batches/b1/recipients", f.keyA, "", "")
	want(t, w, http.StatusOK)
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/x-ndjson") {
		t.Errorf("Content-Type %q", ct)
	}
	if n := strings.Count(w.Body.String(), "\n"); n != 4 {
		t.Errorf("%d rows: %s", n, w.Body)
	}
	w = f.do("GET", "/v1/batches/b1/recipients?state=failed,pending", f.keyA, "", "")
	var row campaign.Row
	if err := json.Unmarshal(w.Body.Bytes(), &row); err != nil || row.OpenID != openid(1) || row.State != "failed" || *row.Errcode != 43004 {
		t.Errorf("failed rows: %s", w.Body)
	}
	w = f.do("GET", "/v1/batches/b1/recipients?state=lost", f.keyA, "", "")
	want(t, w, http.StatusBadRequest)
	if e := apiError(t, w); e.Field != "state" {
		t.Errorf("bad state: %+v", e)
	}

	w = f.do("GET", "/v1/batches", f.keyA, "", "")
	var list listDoc
	if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil || len(list.Batches) != 1 || list.Batches[0].Counts.Sent != 3 {
		t.Errorf("list: %s", w.Body)
	}
}

// TestPauseResumeRetry: pause stops a running batch with recipients left
// and holds it; resume sends the rest; retry requeues the failures by
// errcode, and refuses a malformed body.
func TestPauseResumeRetry(t *testing.T) {
	f := newFixture(t, fixtureOptions{wx: wechattest.Options{Latency: 20 * time.Millisecond, Unfollowed: []string{openid(0)}}})
	f.startRunner()
	want(t, f.do("POST", "/v1/batches?name=slow&template=order", f.keyA, "text/csv", usersCSV(200)), http.StatusCreated)
	f.await("slow", "running", func(d batchDoc) bool { return d.Counts.Sent > 0 })
	w := f.do("POST", "/v1/batches/slow/pause", f.keyA, "", "")
	want(t, w, http.StatusOK)
	if d := decodeBatch(t, w); d.Schedule.State != "held" || d.Schedule.Hold != campaign.ErrPausedByRequest.Error() {
		t.Errorf("paused: %+v", d.Schedule)
	}
	d := f.await("slow", "paused", func(d batchDoc) bool { return d.Batch.Status == store.StatusPaused })
	if d.Counts.Pending == 0 {
		t.Fatalf("paused with nothing left: %+v", d.Counts)
	}
	time.Sleep(100 * time.Millisecond)
	if d2 := f.await("slow", "read", func(batchDoc) bool { return true }); d2.Counts.Sent != d.Counts.Sent {
		t.Errorf("sent %d more while paused", d2.Counts.Sent-d.Counts.Sent)
	}
	want(t, f.do("POST", "/v1/batches/slow/pause", f.keyA, "text/plain", "x"), http.StatusBadRequest)

	want(t, f.do("POST", "/v1/batches/slow/resume", f.keyA, "", ""), http.StatusOK)
	d = f.await("slow", "done", func(d batchDoc) bool { return d.Batch.Status == store.StatusDone })
	if d.Counts.Sent != 199 || d.Counts.Failed != 1 || len(f.wx.Deliveries()) != 199 {
		t.Errorf("done: %+v, %d delivered", d.Counts, len(f.wx.Deliveries()))
	}
	w = f.do("POST", "/v1/batches/slow/resume", f.keyA, "", "")
	want(t, w, http.StatusConflict)

	for _, c := range []struct {
		name, ctype, body string
		status            int
		requeued          int64
	}{
		{"OtherCode", "application/json", `{"errcodes":[-1]}`, 200, 0},
		{"UnknownField", "application/json", `{"errcode":[43004]}`, 400, 0},
		{"NotJSON", "text/plain", `{"errcodes":[43004]}`, 400, 0},
		{"WrongType", "application/json", `{"errcodes":"43004"}`, 400, 0},
		{"ByCode", "application/json", `{"errcodes":[43004]}`, 200, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := f.do("POST", "/v1/batches/slow/retry", f.keyA, c.ctype, c.body)
			want(t, w, c.status)
			if c.status != 200 {
				apiError(t, w)
				return
			}
			var got map[string]int64
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || got["requeued"] != c.requeued {
				t.Errorf("answer %s; want requeued %d", w.Body, c.requeued)
			}
		})
	}
	f.await("slow", "done again", func(d batchDoc) bool {
		return d.Batch.Status == store.StatusDone && d.Counts.Failed == 1 && d.FailedRows[0].Attempts == 2
	})
}

// A client whose upload stalls is answered 408 once the body has gone
// without a byte for the idle limit, and nothing is recorded.
func TestCreateBatch_StalledBody(t *testing.T) {
	f := newFixture(t, fixtureOptions{bodyIdle: 200 * time.Millisecond})
	hs := httptest.NewServer(f.srv)
	t.Cleanup(hs.Close)
	conn, err := net.Dial("tcp", hs.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/batches?name=slow&template=order HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: text/csv\r\nContent-Length: 100000\r\n\r\nopenid,name\n", f.keyA)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled upload: %v", err)
	}
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Errorf("status %d, want 408", resp.StatusCode)
	}
	if n := f.batches(t); n != 0 || len(f.spoolLeft()) > 0 {
		t.Errorf("%d batches, spool %v", n, f.spoolLeft())
	}
}
