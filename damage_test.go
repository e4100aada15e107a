package main

import (
	"crypto/rand"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/megasend/megasend/wechat/wechattest"
)

// When the database file itself is damaged: one page of the sends table
// overwritten, as a failing disk or another program writing into the file
// would leave it (PRAGMA integrity_check fails). megasend must not trust
// it: a resume or a retry refuses before its first send, a report refuses
// before its first word (it never says "done"), a run whose writes meet
// the damage stops at once, and each says the file is damaged and what to
// do; megasend check lists the damage.

// damageLeaf overwrites one leaf page of the b-tree called name (a table or
// an index) in the database at db with random bytes: the first in key
// order, or the last. No megasend process may be running.
func damageLeaf(t *testing.T, db, name string, last bool) {
	t.Helper()
	order := "ASC"
	if last {
		order = "DESC"
	}
	var page, size int64
	sdb := openLedger(t, db)
	err := sdb.QueryRow(`SELECT pageno, pgsize FROM dbstat WHERE name = ? AND pagetype = 'leaf'
		ORDER BY path `+order+` LIMIT 1`, name).Scan(&page, &size)
	if cerr := sdb.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("find a leaf page of %s: %v", name, err)
	}
	f, err := os.OpenFile(db, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	junk := []byte(strings.Repeat(rand.Text(), int(size)/26+1))[:size]
	if _, err := f.WriteAt(junk, (page-1)*size); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// wantDamageSaid fails unless r exited 1 saying the database is damaged
// and how to see the damage.
func wantDamageSaid(t *testing.T, r runResult, what string) {
	t.Helper()
	wantExit(t, r, 1, what)
	wantOutput(t, r, "is damaged", "megasend check --full", "restore the database from a backup")
}

func TestDamagedLedger(t *testing.T) {
	// A page of rows sent before the pause: a resume reads none of them,
	// and the counts do not either.
	t.Run("resume", func(t *testing.T) {
		fc := newFaultCaseN(t, 206, 3000)
		srv := pausedBatch(t, fc, "dmg")
		srv.ResetQuota()
		srv.SetQuota(100000)
		r := fc.run(t, srv.URL, "check")
		wantExit(t, r, 0, "check of a sound database")
		wantOutput(t, r, fc.db+": ok (quick_check")
		damageLeaf(t, fc.db, "sends", false)
		before := len(srv.Deliveries())

		r = fc.run(t, srv.URL, "campaign", "--resume", "dmg")
		wantDamageSaid(t, r, "resume of a damaged ledger")
		wantOutput(t, r, "database "+fc.db+" is damaged: ")
		r2 := fc.run(t, srv.URL, "retry", "dmg", "--unknown")
		wantDamageSaid(t, r2, "retry in a damaged ledger")
		r3 := fc.run(t, srv.URL, campaignArgs(fc.users, "dmg")...)
		wantDamageSaid(t, r3, "the same campaign again (continuing its batch)")
		if n := len(srv.Deliveries()) - before; n != 0 {
			t.Fatalf("%d sent from a damaged ledger", n)
		}
		t.Logf("%d recipients, %d sent before the damage: resume, retry and the same campaign exit 1 after %v, %v, %v; 0 sent",
			fc.n, before, r.took.Round(time.Millisecond), r2.took.Round(time.Millisecond), r3.took.Round(time.Millisecond))

		for _, full := range []bool{false, true} {
			args := []string{"check"}
			if full {
				args = append(args, "--full")
			}
			r = fc.run(t, srv.URL, args...)
			wantDamageSaid(t, r, strings.Join(args, " "))
			if !strings.Contains(r.stdout, "(sends) page ") {
				t.Errorf("%s lists no damaged page:\n%s", strings.Join(args, " "), r)
			}
			t.Logf("%s: exit 1 after %v, listing %q", strings.Join(args, " "), r.took.Round(time.Millisecond),
				strings.Split(strings.TrimSpace(r.stdout), "\n"))
		}
	})

	// A batch sent to the end, then a page of its sends rows damaged: its
	// counts, from the state index, still add up to "done".
	t.Run("report", func(t *testing.T) {
		fc := newFaultCaseN(t, 207, 3000)
		srv := startSim(t, wechattest.Options{})
		wantExit(t, fc.run(t, srv.URL, campaignArgs(fc.users, "dmg")...), 0, "campaign")
		damageLeaf(t, fc.db, "sends", false)
		for _, format := range []string{"table", "json", "csv"} {
			r := fc.run(t, srv.URL, "report", "dmg", "--format", format)
			wantDamageSaid(t, r, "report --format "+format)
			if r.stdout != "" {
				t.Errorf("report --format %s wrote a report of a damaged ledger:\n%s", format, r)
			}
			t.Logf("report --format %s of %d sent: exit 1 after %v, nothing on stdout", format, fc.n, r.took.Round(time.Millisecond))
		}
	})

	// The last page of the sends table, where the next batch's rows go: its
	// import's first write there meets the damage. (The ledger's writer
	// meeting it is TestLedger_Corrupt in ./store: a page cannot be damaged
	// behind a running writer's cache on demand.)
	t.Run("write", func(t *testing.T) {
		fc := newFaultCaseN(t, 208, 3000)
		srv := startSim(t, wechattest.Options{})
		wantExit(t, fc.run(t, srv.URL, campaignArgs(fc.users, "first")...), 0, "campaign")
		damageLeaf(t, fc.db, "sends", true)
		before := len(srv.Deliveries())
		users, _ := writeUsers(t, t.TempDir(), 50, 209)
		r := fc.run(t, srv.URL, campaignArgs(users, "second")...)
		wantDamageSaid(t, r, "a campaign writing into a damaged page")
		if strings.Contains(r.stderr, "to resume") {
			t.Errorf("a resume is offered from a damaged ledger:\n%s", r)
		}
		if n := len(srv.Deliveries()) - before; n != 0 {
			t.Fatalf("%d sent though the ledger could not record them", n)
		}
		t.Logf("a new campaign of 50 into the damaged page: exit 1 after %v, 0 sent", r.took.Round(time.Millisecond))
	})
}
