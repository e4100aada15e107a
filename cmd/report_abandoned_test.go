package cmd

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// A batch whose sending process was killed still says "running" in the
// ledger until a resume takes its lock over. report and batches must say
// that its process is gone and how to finish it, and must not say so of a
// batch whose process is alive.
func TestReport_Abandoned(t *testing.T) {
	for _, tt := range []struct {
		name, owner string
		gone        bool
	}{
		{name: "ProcessGone", owner: "99999999@test-host", gone: true},
		{name: "ProcessAlive", owner: fmt.Sprintf("%d@test-host", os.Getppid())},
		{name: "Unlocked", owner: ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db := sandboxBatch(t, "killed", "../testdata/templates/order_paid.json", "../testdata/users.csv")
			mustExec(t, db, `UPDATE sends SET state = 'pending', msgid = NULL WHERE line IN (5, 6, 7)`)
			mustExec(t, db, `UPDATE batches SET status = 'running', finished_at = NULL, lock_owner = ?,
				lock_since = 1700000000000, lock_beat = 1700000000000 WHERE name = 'killed'`, tt.owner)

			code, out, stderr := runCLI(t, db, "report", "killed")
			if code != exitOK {
				t.Fatalf("report: exit %d: %s", code, stderr)
			}
			gone := strings.Contains(out, "the process sending it (pid 99999999 on test-host) is gone: resume to finish")
			resume := strings.Contains(out, "resume:  megasend")
			locked := strings.Contains(out, "locked ")
			if gone != tt.gone || resume != tt.gone || locked != (tt.owner != "" && !tt.gone) {
				t.Errorf("report says gone %v, resume %v, locked %v; want gone %v:\n%s", gone, resume, locked, tt.gone, out)
			}

			_, out, _ = runCLI(t, db, "report", "killed", "--format", "json")
			if want := fmt.Sprintf(`"abandoned": %v`, tt.gone); !strings.Contains(out, want) {
				t.Errorf("report --format json lacks %s:\n%s", want, out)
			}
			_, out, _ = runCLI(t, db, "batches")
			if got := strings.Contains(out, "running (process gone)"); got != tt.gone {
				t.Errorf("batches says process gone %v, want %v:\n%s", got, tt.gone, out)
			}
		})
	}
}

// A run SIGKILLed before its first heartbeat leaves the batch's row as it
// started (updated_at at the start) after hundreds of sends. report and
// batches take the last activity, and the duration, from the outcomes the
// ledger recorded.
func TestReport_KilledBeforeHeartbeat(t *testing.T) {
	db := sandboxBatch(t, "killed", "../testdata/templates/order_paid.json", "../testdata/users.csv")
	const created = 1700000000000
	mustExec(t, db, `UPDATE batches SET status = 'running', finished_at = NULL, created_at = ?1, updated_at = ?1,
		lock_owner = '99999999@test-host', lock_since = ?1, lock_beat = ?1 WHERE name = 'killed'`, created)
	mustExec(t, db, `UPDATE sends SET last_attempt_at = ?1 + 1000 * line, done_at = ?1 + 1000 * line + 40`, created)
	mustExec(t, db, `UPDATE sends SET state = 'inflight', done_at = NULL, last_attempt_at = ?1 + 37000 WHERE line = 21`, created)
	last := time.UnixMilli(created + 37000).Local().Format("2006-01-02 15:04:05")

	code, out, stderr := runCLI(t, db, "report", "killed")
	if code != exitOK {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"duration       37s\n", "last activity  " + last + "\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	_, out, _ = runCLI(t, db, "report", "killed", "--format", "json")
	if want := `"duration_seconds": 37` + "\n"; !strings.Contains(out, want) {
		t.Errorf("report --format json lacks %s:\n%s", want, out)
	}
	_, out, _ = runCLI(t, db, "batches")
	if !strings.Contains(out, last) {
		t.Errorf("batches lacks the last activity %s:\n%s", last, out)
	}
}
