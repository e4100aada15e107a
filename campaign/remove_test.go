package campaign

import (
	"errors"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/megasend/megasend/store"
)

// names returns the names of batches.
func names(batches []store.Batch) []string {
	var out []string
	for _, b := range batches {
		out = append(out, b.Name)
	}
	return out
}

// left returns the names of the batches f's ledger holds, newest first.
func (f *ledgerFixture) left() []string {
	f.t.Helper()
	list, err := f.svc.List(f.t.Context())
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, b := range list {
		out = append(out, b.Name)
	}
	return out
}

// Remove removes all the batches named or none: a missing name is
// NotFound, a batch a live process holds is Locked, and either leaves
// every batch in place.
func TestService_Remove(t *testing.T) {
	tests := []struct {
		name    string
		remove  []string
		code    Code   // "" for success
		msg     string // the whole message, as a pattern
		removed []string
		left    []string
	}{
		{name: "One", remove: []string{"done"}, removed: []string{"done"}, left: []string{"live", "dead"}},
		{name: "Twice", remove: []string{"done", "done"}, removed: []string{"done"}, left: []string{"live", "dead"}},
		// A batch whose process is gone may go.
		{name: "Abandoned", remove: []string{"dead", "done"}, removed: []string{"dead", "done"}, left: []string{"live"}},
		{name: "Missing", remove: []string{"nope", "done", "gone"}, code: NotFound,
			msg: `^no batches "nope", "gone"; nothing removed$`, left: []string{"live", "dead", "done"}},
		{name: "Held", remove: []string{"done", "live"}, code: Locked,
			msg: `^batch live is being sent by pid \d+ on test-host since .*; nothing removed$`, left: []string{"live", "dead", "done"}},
		{name: "MissingAndHeld", remove: []string{"live", "nope"}, code: NotFound,
			msg: `^no batch "nope"; batch live is being sent by pid \d+ on test-host since .*; nothing removed$`, left: []string{"live", "dead", "done"}},
		{name: "EmptyName", remove: []string{"done", ""}, code: Invalid, msg: `^empty batch name$`, left: []string{"live", "dead", "done"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newLedgerFixture(t)
			done := f.create("done", "a.csv", csvUsers(2))
			f.send(done, sent(2, sec(2)), sent(3, sec(3)))
			f.setStatus(done, store.StatusDone, "")
			f.now = sec(10)
			f.holdBy(f.create("dead", "b.csv", csvUsers(2)), deadOwner)
			f.now = sec(20)
			f.holdBy(f.create("live", "c.csv", csvUsers(2)), liveOwner)

			removed, err := f.svc.Remove(t.Context(), tt.remove)
			if tt.code == "" {
				if err != nil {
					t.Fatal(err)
				}
			} else if ErrorCode(err) != tt.code || !regexp.MustCompile(tt.msg).MatchString(err.Error()) {
				t.Fatalf("err %v (%s); want %s: %s", err, ErrorCode(err), tt.code, tt.msg)
			}
			var re *store.RemoveError
			if tt.code == NotFound || tt.code == Locked {
				if !errors.As(err, &re) {
					t.Errorf("err %v does not wrap the *store.RemoveError", err)
				}
			}
			if got := names(removed); !slices.Equal(got, tt.removed) {
				t.Errorf("removed %q, want %q", got, tt.removed)
			}
			if got := f.left(); !slices.Equal(got, tt.left) {
				t.Errorf("left %q, want %q", got, tt.left)
			}
			for _, n := range tt.removed {
				if _, err := f.svc.Find(t.Context(), n); ErrorCode(err) != NotFound {
					t.Errorf("Find(%s) after removal: %v", n, err)
				}
			}
		})
	}
}

// Prune removes the batches last active before the policy's time, of the
// statuses it names, except those a live process holds.
func TestService_Prune(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name          string
		policy        PrunePolicy
		removed, kept []string
		left          []string
	}{
		{name: "OlderThan", policy: PrunePolicy{Before: t0.Add(15 * day)},
			removed: []string{"old-done", "old-paused"}, kept: []string{"old-live"}, left: []string{"new", "old-live"}},
		{name: "Status", policy: PrunePolicy{Before: t0.Add(15 * day), Statuses: []string{store.StatusPaused}},
			removed: []string{"old-paused"}, left: []string{"new", "old-live", "old-done"}},
		{name: "Everything", policy: PrunePolicy{Before: t0.Add(100 * day)},
			removed: []string{"old-done", "old-paused", "new"}, kept: []string{"old-live"}, left: []string{"old-live"}},
		{name: "None", policy: PrunePolicy{Before: t0},
			left: []string{"new", "old-live", "old-paused", "old-done"}},
		{name: "DryRun", policy: PrunePolicy{Before: t0.Add(15 * day), DryRun: true},
			removed: []string{"old-done", "old-paused"}, kept: []string{"old-live"}, left: []string{"new", "old-live", "old-paused", "old-done"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newLedgerFixture(t)
			f.setStatus(f.create("old-done", "a.csv", csvUsers(1)), store.StatusDone, "")
			f.now = t0.Add(time.Hour)
			f.setStatus(f.create("old-paused", "b.csv", csvUsers(1)), store.StatusPaused, "interrupted")
			f.now = t0.Add(2 * time.Hour)
			f.holdBy(f.create("old-live", "c.csv", csvUsers(1)), liveOwner)
			f.now = t0.Add(30 * day)
			f.create("new", "d.csv", csvUsers(1))

			removed, kept, err := f.svc.Prune(t.Context(), tt.policy)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(names(removed), tt.removed) || !slices.Equal(names(kept), tt.kept) {
				t.Errorf("removed %q, kept %q; want %q, %q", names(removed), names(kept), tt.removed, tt.kept)
			}
			if got := f.left(); !slices.Equal(got, tt.left) {
				t.Errorf("left %q, want %q", got, tt.left)
			}
		})
	}

	t.Run("BadStatus", func(t *testing.T) {
		f := newLedgerFixture(t)
		f.create("b", "a.csv", csvUsers(1))
		p := PrunePolicy{Before: t0.Add(day), Statuses: []string{"done", "finished"}}
		want := `"finished" is not a batch status; want one or more of importing, ready, running, paused, done`
		if err := p.Check(); ErrorCode(err) != Invalid || err.Error() != want {
			t.Errorf("Check: %v; want Invalid: %s", err, want)
		}
		if _, _, err := f.svc.Prune(t.Context(), p); ErrorCode(err) != Invalid {
			t.Errorf("Prune: %v; want Invalid", err)
		}
		if got := f.left(); !slices.Equal(got, []string{"b"}) {
			t.Errorf("left %q after a refused prune", got)
		}
	})
}

// Reclaim gives the space back once a quarter of the file is free and no
// live process holds a batch; a held batch keeps the file as it is.
func TestService_Reclaim(t *testing.T) {
	f := newLedgerFixture(t)
	for _, n := range []string{"a", "b", "c"} {
		f.create(n, n+".csv", csvUsers(2000))
	}
	if _, err := f.svc.Remove(t.Context(), []string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	f.holdBy(f.create("held", "h.csv", csvUsers(1)), liveOwner)
	r, err := f.svc.Reclaim(t.Context())
	if err != nil || r.Vacuumed || !slices.Equal(r.Busy, []string{"held"}) || r.Before.Free*4 < r.Before.Size {
		t.Fatalf("Reclaim with a held batch: %+v, %v; want it busy, not vacuumed", r, err)
	}
	if _, err := f.svc.Remove(t.Context(), []string{"c"}); err != nil {
		t.Fatal(err)
	}
	f.setStatus(f.mustFind("held"), store.StatusPaused, "")
	if err := f.db.Unlock(t.Context(), f.mustFind("held").ID, liveOwner); err != nil {
		t.Fatal(err)
	}
	r, err = f.svc.Reclaim(t.Context())
	if err != nil || !r.Vacuumed || r.After.Size >= r.Before.Size {
		t.Errorf("Reclaim: %+v, %v; want the file vacuumed smaller", r, err)
	}
}

// mustFind returns batch name.
func (f *ledgerFixture) mustFind(name string) store.Batch {
	f.t.Helper()
	b, err := f.svc.Find(f.t.Context(), name)
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}
