package campaign

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/megasend/megasend/recipient"
)

// Source is a batch's recipient file: where to read it, what to call it, and
// the sha256 of its bytes, by which a batch tells its own input from another.
type Source struct {
	// Name is what problems and logs call it: the path as given, or "stdin".
	Name string
	// Path is what the ledger records, to read it again if an import is
	// interrupted: an absolute path, or "-" for a source that cannot be read
	// again.
	Path string
	// Hash is the hex sha256 of the source's bytes.
	Hash string
	// Open opens the bytes for reading; each call starts at the beginning.
	Open func() (io.ReadCloser, error)
}

// FileSource is the file at path. It reads the file once for its hash.
func FileSource(path string) (Source, error) {
	hash, err := HashFile(path)
	if err != nil {
		return Source{}, err
	}
	abs := path
	if a, err := filepath.Abs(path); err == nil {
		abs = a
	}
	return Source{Name: path, Path: abs, Hash: hash,
		Open: func() (io.ReadCloser, error) { return os.Open(path) }}, nil
}

// HashFile returns the hex sha256 of the file at path. A missing file, a
// directory or a read error is an Invalid error naming the file.
func HashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", Errorf(Invalid, "users file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", Errorf(Invalid, "users file: %w", err)
	}
	if fi.IsDir() {
		return "", Errorf(Invalid, "users file %s: is a directory", path)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", Errorf(Invalid, "users file %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Input says how to read a recipient file.
type Input struct {
	Encoding string                // "" or utf-8, or gbk
	OpenIDs  recipient.OpenIDCheck // how plausible an openid must look
	// Format is the file's syntax; FormatAuto (zero) guesses it from the
	// source's name, then from its first bytes. A source with no file
	// name (an HTTP body) says what its content type says.
	Format recipient.Format
}

// readRows streams src through the recipient reader and calls row for every
// good row. Row-level problems are collected in c; a read error that is not
// the input's fault is returned.
func readRows(src Source, in Input, c *checker, row func(recipient.Row) error) (int64, error) {
	r, err := src.Open()
	if err != nil {
		return 0, fmt.Errorf("users file: %w", err)
	}
	defer r.Close()
	return readRowsFrom(r, src.Name, in, c, row)
}
