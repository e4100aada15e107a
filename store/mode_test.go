package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// The database holds recipients' personal data: a new one, and the -wal
// and -shm files SQLite creates beside it, are readable by their owner
// only, whatever the umask lets through. An existing file keeps its mode.
func TestOpen_Mode(t *testing.T) {
	old := syscall.Umask(0) // the most permissive: 0644 would show as is
	defer syscall.Umask(old)

	t.Run("New", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "m.db")
		d, err := Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		importN(t, d, 10) // writes: the WAL and its index exist now
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v, want 0600", filepath.Base(p), fi.Mode().Perm())
			}
		}
	})
	t.Run("Existing", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "m.db")
		if err := os.WriteFile(path, nil, 0o640); err != nil {
			t.Fatal(err)
		}
		d, err := Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o640 {
			t.Errorf("mode %v, %v; want the owner's 0640 kept", fi.Mode().Perm(), err)
		}
	})
}

// SQLite alone says "unable to open database file (14)" of a directory.
func TestOpen_Directory(t *testing.T) {
	dir := t.TempDir()
	_, err := Open(t.Context(), dir)
	if !errors.Is(err, ErrIsDirectory) || !strings.Contains(fmt.Sprint(err), dir+": it is a directory") {
		t.Fatalf("err %v, want ErrIsDirectory", err)
	}
}
