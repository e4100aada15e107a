package cmd

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestBatches(t *testing.T) {
	db := filepath.Join(t.TempDir(), "m.db")
	t.Run("Empty", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, db, "batches")
		if code != exitOK || stdout != "" || !strings.Contains(stderr, "no batches in") {
			t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
		code, stdout, _ = runCLI(t, db, "batches", "--json")
		if code != exitOK || stdout != "[]\n" {
			t.Errorf("--json: exit %d, stdout %q; want []", code, stdout)
		}
	})

	for _, name := range []string{"older", "newer"} {
		code, _, stderr := runCLI(t, db, "campaign", "--sandbox", "--template", "../testdata/templates/order_paid.json",
			"--users", "../testdata/users.csv", "--batch", name)
		if code != exitOK {
			t.Fatalf("campaign %s: exit %d: %s", name, code, stderr)
		}
	}
	mustExec(t, db, `UPDATE sends SET state = 'failed', errcode = 43004 WHERE line = 2
		AND batch_id = (SELECT id FROM batches WHERE name = 'older')`)

	t.Run("JSON", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, db, "batches", "--json")
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var got []struct {
			Name   string
			Status string
			Total  int64
			Counts struct{ Total, Sent, Failed, Pending int64 }
		}
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatalf("%v: %s", err, stdout)
		}
		if len(got) != 2 || got[0].Name != "newer" || got[1].Name != "older" {
			t.Fatalf("got %+v; want newer, then older", got)
		}
		if c := got[1].Counts; c.Total != 20 || c.Sent != 19 || c.Failed != 1 || got[1].Status != "done" {
			t.Errorf("older: %+v", got[1])
		}
	})

	t.Run("Table", func(t *testing.T) {
		code, stdout, _ := runCLI(t, db, "batches")
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		if code != exitOK || len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME ") ||
			!strings.HasPrefix(lines[1], "newer ") || !strings.Contains(lines[2], " 19 ") {
			t.Errorf("exit %d:\n%s", code, stdout)
		}
	})
}
