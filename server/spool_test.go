package server

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/megasend/megasend/apikey"
)

// TestSweepSpool: a serve starting removes the spool files that stopped
// processes left (a SIGKILL skips the deferred remove), and nothing else:
// not another file, not a file written since it started, not the upload of
// another serve still running in the same directory.
func TestSweepSpool(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	dir := t.TempDir()
	hourAgo := time.Now().Add(-time.Hour)
	write := func(name string, at time.Time) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("openid\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, at, at); err != nil {
			t.Fatal(err)
		}
	}
	const deadPID = 1 << 30 // above any pid_max: no such process
	gone := []string{
		spoolPrefix + fmt.Sprintf("%d-123", deadPID),     // a killed serve's
		spoolPrefix + fmt.Sprintf("%d-456", os.Getpid()), // this pid's, from a process before it
		spoolPrefix + "987654321",                        // an older version's name, without a pid
	}
	kept := []string{
		spoolPrefix + fmt.Sprintf("%d-789", os.Getppid()), // a live process's upload
		"megasend.db",           // not a spool file
		".megasend-uploads.txt", // not the pattern's
	}
	for _, name := range append(slices.Clone(gone), kept...) {
		write(name, hourAgo)
	}
	fresh := spoolPrefix + fmt.Sprintf("%d-1", deadPID) // written after the start
	write(fresh, time.Now().Add(time.Minute))
	kept = append(kept, fresh)
	if err := os.Mkdir(filepath.Join(dir, spoolPrefix+"dir"), 0o700); err != nil {
		t.Fatal(err)
	}
	kept = append(kept, spoolPrefix+"dir")

	if _, err := New(Config{Service: f.svc, Keys: apikey.NewKeys(f.db), DB: f.db, SpoolDir: dir}); err != nil {
		t.Fatal(err)
	}
	var left []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	slices.Sort(kept)
	if !slices.Equal(left, kept) {
		t.Errorf("left %q\nwant %q", left, kept)
	}
}

// An upload's spool file carries this process's pid, so that a sweep can
// tell it from a dead process's.
func TestCreateSpool_NamesThePID(t *testing.T) {
	f, err := createSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if pid, ok := spoolPID(filepath.Base(f.Name())); !ok || pid != os.Getpid() {
		t.Errorf("%s: pid %d, %v", f.Name(), pid, ok)
	}
}

// FuzzSpoolPID: any name parses without a panic, a pid is only ever
// positive, and the names createSpool gives carry their pid back.
func FuzzSpoolPID(f *testing.F) {
	for _, s := range []string{spoolPrefix + "12-345", spoolPrefix + "987654321", spoolPrefix + "-1-2", spoolPrefix + "0-1", "x", spoolPrefix + "99999999999999999999-1"} {
		f.Add(s, 42)
	}
	f.Fuzz(func(t *testing.T, name string, pid int) {
		if got, ok := spoolPID(name); ok && got <= 0 {
			t.Errorf("spoolPID(%q) = %d", name, got)
		}
		if pid <= 0 {
			return
		}
		made := fmt.Sprintf("%s%d-%s", spoolPrefix, pid, "123456")
		if got, ok := spoolPID(made); !ok || got != pid {
			t.Errorf("spoolPID(%q) = %d, %v; want %d", made, got, ok, pid)
		}
	})
}
