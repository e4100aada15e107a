package server

// Uploads are spooled to files named for the process that writes them. A
// serve that dies by SIGKILL leaves its spool files behind (the deferred
// remove never runs); the next serve sweeps them when it starts.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// spoolPrefix starts the name of every spool file, which goes on with the
// writer's pid and a random part: .megasend-upload-PID-RANDOM.
const spoolPrefix = ".megasend-upload-"

// createSpool creates a new spool file in dir for this process.
func createSpool(dir string) (*os.File, error) {
	return os.CreateTemp(dir, spoolPrefix+strconv.Itoa(os.Getpid())+"-*")
}

// sweepSpool removes the spool files in dir left by processes that
// stopped, and returns their names. It removes only regular files with
// the spool's name, last written before started (the time this process
// began serving: a file written since may be another process's upload in
// progress), and not written by another process still alive (two serves
// may share the database's directory, and one's import may outlast the
// other's start). A file named without a pid, by an older version, goes by
// its age alone.
func sweepSpool(dir string, started time.Time) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("sweep upload spool: %w", err)
	}
	var removed []string
	var errs []error
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, spoolPrefix) || !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil || !fi.ModTime().Before(started) {
			continue // gone meanwhile, or written since this process began
		}
		if pid, ok := spoolPID(name); ok && pid != os.Getpid() && alive(pid) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, name)
	}
	if len(errs) > 0 {
		return removed, fmt.Errorf("sweep upload spool: %w", errors.Join(errs...))
	}
	return removed, nil
}

// spoolPID returns the pid a spool file's name carries, if it has one.
func spoolPID(name string) (int, bool) {
	pidText, _, ok := strings.Cut(strings.TrimPrefix(name, spoolPrefix), "-")
	if !ok {
		return 0, false
	}
	pid, err := strconv.Atoi(pidText)
	return pid, err == nil && pid > 0
}

// alive reports whether process pid exists (as the store's batch locks
// judge it): signal 0 checks existence, EPERM means it runs as another
// user.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
