package cmd

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// source is the recipient file of a campaign: a path on disk (stdin is
// spooled to a temporary file first, so it can be hashed, validated and
// imported in separate passes) and the sha256 of its bytes.
type source struct {
	path    string // the file read
	display string // what errors call it: the path given, or "stdin"
	hash    string
	cleanup func()
}

// openSource resolves --users. "-" spools stdin to a temporary file in dir.
func openSource(users string, stdin io.Reader, dir string) (*source, error) {
	if users == "-" {
		f, err := os.CreateTemp(dir, "megasend-stdin-*")
		if err != nil {
			return nil, fmt.Errorf("spool stdin: %w", err)
		}
		h := sha256.New()
		if _, err := io.Copy(io.MultiWriter(f, h), stdin); err != nil {
			f.Close()
			os.Remove(f.Name())
			return nil, fmt.Errorf("read stdin: %w", err)
		}
		if err := f.Close(); err != nil {
			os.Remove(f.Name())
			return nil, fmt.Errorf("spool stdin: %w", err)
		}
		name := f.Name()
		return &source{path: name, display: "stdin", hash: hex.EncodeToString(h.Sum(nil)),
			cleanup: func() { os.Remove(name) }}, nil
	}
	hash, err := hashFile(users)
	if err != nil {
		return nil, usageError(err)
	}
	return &source{path: users, display: users, hash: hash, cleanup: func() {}}, nil
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("users file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("users file: %w", err)
	}
	if fi.IsDir() {
		return "", fmt.Errorf("users file %s: is a directory", path)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("users file %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// absPath makes a source path absolute for the ledger, so --resume works
// from any directory.
func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
