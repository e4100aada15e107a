package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/megasend/megasend/campaign"
	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/wechat/wechattest"
)

// TestCancel_NotSending: a batch the runner has not taken up is cancelled
// at once: done, every recipient skipped with reason "cancelled", counted
// in the report's skipped_reasons. Cancelling it again is 409.
func TestCancel_NotSending(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	want(t, f.do("POST", "/v1/batches?name=c&template=order", f.keyA, "text/csv", usersCSV(5)), http.StatusCreated)
	want(t, f.do("POST", "/v1/batches/c/cancel", f.keyA, "text/plain", "x"), http.StatusBadRequest)

	w := f.do("POST", "/v1/batches/c/cancel", f.keyA, "", "")
	want(t, w, http.StatusOK)
	d := decodeBatch(t, w)
	if d.Batch.Status != store.StatusDone || d.Counts.Skipped != 5 || d.Counts.Pending != 0 ||
		d.SkippedReasons[campaign.ErrCancelled.Error()] != 5 || d.Schedule.State != "done" {
		t.Errorf("cancelled: %+v, skipped %v, schedule %+v", d.Counts, d.SkippedReasons, d.Schedule)
	}
	w = f.do("GET", "/v1/batches/c/recipients?state=skipped", f.keyA, "", "")
	want(t, w, http.StatusOK)
	rows := strings.Split(strings.TrimSpace(w.Body.String()), "\n")
	for _, line := range rows {
		var r campaign.Row
		if err := json.Unmarshal([]byte(line), &r); err != nil || r.Errmsg != "cancelled" || r.Attempts != 0 {
			t.Errorf("row %s (%v)", line, err)
		}
	}
	if len(rows) != 5 {
		t.Errorf("%d skipped rows", len(rows))
	}

	w = f.do("POST", "/v1/batches/c/cancel", f.keyA, "", "")
	want(t, w, http.StatusConflict)
	if e := apiError(t, w); !strings.Contains(e.Message, "nothing to cancel") {
		t.Errorf("again: %+v", e)
	}
	// Resuming it does not bring it back.
	want(t, f.do("POST", "/v1/batches/c/resume", f.keyA, "", ""), http.StatusConflict)
	want(t, f.do("POST", "/v1/batches/nosuch/cancel", f.keyA, "", ""), http.StatusNotFound)
}

// TestCancel_WhileSending: a batch being sent stops; what was sent stays
// sent (and was delivered once), the rest is skipped, and nothing more is
// sent after.
func TestCancel_WhileSending(t *testing.T) {
	f := newFixture(t, fixtureOptions{wx: wechattest.Options{Latency: 20 * time.Millisecond}})
	f.startRunner()
	want(t, f.do("POST", "/v1/batches?name=slow&template=order", f.keyA, "text/csv", usersCSV(300)), http.StatusCreated)
	f.await("slow", "running", func(d batchDoc) bool { return d.Counts.Sent > 0 })
	want(t, f.do("POST", "/v1/batches/slow/cancel", f.keyA, "", ""), http.StatusOK)
	d := f.await("slow", "done", func(d batchDoc) bool { return d.Batch.Status == store.StatusDone })
	c := d.Counts
	if c.Skipped == 0 || c.Sent+c.Skipped != 300 || c.Pending+c.Inflight != 0 || d.SkippedReasons["cancelled"] != c.Skipped {
		t.Errorf("cancelled while sending: %+v, skipped %v", c, d.SkippedReasons)
	}
	time.Sleep(100 * time.Millisecond)
	if n := int64(len(f.wx.Deliveries())); n != c.Sent {
		t.Errorf("%d delivered, %d recorded sent", n, c.Sent)
	}
}
