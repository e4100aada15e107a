package cmd

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"github.com/megasend/megasend/campaign"
)

// source is the recipient file of a campaign (campaign.Source) and what
// to remove once the command is done with it.
type source struct {
	campaign.Source
	cleanup func()
}

// openSource resolves --users. "-" spools stdin to a temporary file in dir,
// so that it can be hashed, validated and imported in separate passes; the
// ledger records it as "-", a source that cannot be read again.
func openSource(users string, stdin io.Reader, dir string) (*source, error) {
	if users != "-" {
		src, err := campaign.FileSource(users)
		if err != nil {
			return nil, err
		}
		return &source{Source: src, cleanup: func() {}}, nil
	}
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
	return &source{
		Source: campaign.Source{Name: "stdin", Path: "-", Hash: hex.EncodeToString(h.Sum(nil)),
			Open: func() (io.ReadCloser, error) { return os.Open(name) }},
		cleanup: func() { os.Remove(name) },
	}, nil
}
