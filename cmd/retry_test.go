package cmd

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/megasend/megasend/campaign"
)

func TestRetryOptions_Selection(t *testing.T) {
	tests := []struct {
		name string
		o    retryOptions
		want campaign.Selection
		text string
		bad  bool
	}{
		{name: "Default", want: campaign.Selection{Failed: true}, text: "failed"},
		{name: "Codes", o: retryOptions{errcodes: "43004, -1"}, want: campaign.Selection{Failed: true, Codes: []int{43004, -1}},
			text: "failed with errcode 43004 or -1"},
		{name: "Unknown", o: retryOptions{unknown: true}, want: campaign.Selection{Unknown: true}, text: "with an unknown outcome"},
		{name: "Both", o: retryOptions{errcodes: "-1", unknown: true}, want: campaign.Selection{Failed: true, Codes: []int{-1}, Unknown: true},
			text: "failed with errcode -1 or with an unknown outcome"},
		{name: "NotANumber", o: retryOptions{errcodes: "43004,x"}, bad: true},
		{name: "Empty", o: retryOptions{errcodes: "43004,"}, bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.o.selection()
			if tt.bad {
				if exitCode(err) != exitUsage {
					t.Errorf("got %+v, %v; want a usage error", got, err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) || got.String() != tt.text {
				t.Errorf("got %+v %q, %v; want %+v %q", got, got.String(), err, tt.want, tt.text)
			}
		})
	}
}

// TestRetry_ErrcodeMinusOne checks that retry --errcode -1 sends exactly the
// recipients that failed with -1: not those that failed with another code,
// not those whose outcome is unknown with the same code.
func TestRetry_ErrcodeMinusOne(t *testing.T) {
	db := sandboxBatch(t, "b", "../testdata/templates/order_paid.json", "../testdata/users.csv")
	mustExec(t, db, `UPDATE sends SET state = 'failed', errcode = -1, errmsg = 'system error', msgid = NULL WHERE line IN (3, 7, 12)`)
	mustExec(t, db, `UPDATE sends SET state = 'failed', errcode = 43004, errmsg = 'require subscribe', msgid = NULL WHERE line = 4`)
	mustExec(t, db, `UPDATE sends SET state = 'unknown', errcode = -1, errmsg = 'may have been delivered', msgid = NULL WHERE line = 5`)
	mustExec(t, db, `UPDATE batches SET status = 'done'`)

	code, stdout, stderr := runCLI(t, db, "retry", "b", "--errcode", "-1", "--sandbox")
	if code != exitFailures {
		t.Fatalf("exit %d; want 3 (failures remain): %s", code, stderr)
	}
	if !strings.Contains(stdout, "requeued 3 recipients of batch b (failed with errcode -1)") {
		t.Errorf("stdout %q", stdout)
	}
	got := states(t, db, "b")
	for line, state := range got {
		want := "sent"
		switch line {
		case 4:
			want = "failed"
		case 5:
			want = "unknown"
		}
		if state != want {
			t.Errorf("line %d: %s; want %s", line, state, want)
		}
	}
	if len(got) != 20 {
		t.Errorf("%d recipients; want 20", len(got))
	}

	// --unknown alone takes the unknown one and leaves the failed one.
	if code, _, stderr := runCLI(t, db, "retry", "--unknown", "b", "--sandbox"); code != exitFailures {
		t.Fatalf("retry --unknown: exit %d: %s", code, stderr)
	}
	if got := states(t, db, "b"); got[5] != "sent" || got[4] != "failed" {
		t.Errorf("after --unknown: line 4 %s, line 5 %s; want failed, sent", got[4], got[5])
	}
}

// TestRetry_Locked checks that a batch another live process is sending is
// not requeued.
func TestRetry_Locked(t *testing.T) {
	db := sandboxBatch(t, "b", "../testdata/templates/order_paid.json", "../testdata/users.csv")
	mustExec(t, db, `UPDATE sends SET state = 'failed', errcode = 43004 WHERE line = 2`)
	// Our parent process is alive and on this host, and is not us.
	mustExec(t, db, `UPDATE batches SET lock_owner = ?, lock_since = 1, lock_beat = 1`, fmt.Sprintf("%d@test-host", os.Getppid()))

	code, stdout, stderr := runCLI(t, db, "retry", "b", "--sandbox")
	if code != exitRuntime || !strings.Contains(stderr, "batch b is being sent by pid") {
		t.Fatalf("exit %d, stderr %q; want 1 and who holds the lock", code, stderr)
	}
	if strings.Contains(stdout, "requeued") {
		t.Errorf("stdout %q; want nothing requeued", stdout)
	}
	if got := states(t, db, "b"); got[2] != "failed" {
		t.Errorf("line 2 is %s; want still failed", got[2])
	}
}
