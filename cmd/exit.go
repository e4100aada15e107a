package cmd

import (
	"errors"
	"fmt"

	"github.com/megasend/megasend/campaign"
)

// Exit codes: the contract scripts and cron depend on (README.md, PRODUCT.md).
const (
	exitOK        = 0 // done: every recipient sent or skipped
	exitRuntime   = 1 // runtime error: database, network, bug
	exitUsage     = 2 // usage or invalid input; nothing was sent
	exitFailures  = 3 // done, but some recipients failed
	exitResumable = 4 // stopped before the end; resumable
)

// codedError carries the exit code a command chose for its error. urfave/cli
// v2 only honours cli.Exit by type assertion, so megasend keeps its own type
// and maps it in one place, exitCode.
type codedError struct {
	code int
	err  error // nil: exit with code, print nothing more
}

func (e *codedError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}

func (e *codedError) Unwrap() error { return e.err }

// usageError marks err as a usage or input error: exit 2.
func usageError(err error) error {
	if err == nil {
		return nil
	}
	return &codedError{code: exitUsage, err: err}
}

// usageErrorf formats a usage error.
func usageErrorf(format string, args ...any) error {
	return usageError(fmt.Errorf(format, args...))
}

// withCode attaches an exit code to err. A nil err still exits with code,
// which is how "done, with failures" (3) reaches the process.
func withCode(code int, err error) error {
	return &codedError{code: code, err: err}
}

// exitCode maps an error returned by a command to the process exit code.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ce *codedError
	if errors.As(err, &ce) {
		return ce.code
	}
	switch campaign.ErrorCode(err) {
	case campaign.Invalid, campaign.NotFound, campaign.Conflict:
		return exitUsage // nothing was sent
	case campaign.Stopped:
		return exitResumable
	}
	return exitRuntime // Locked and Unavailable too: the same command works later
}

// batchError adds where to look to the lifecycle's "no batch" error.
func (a *app) batchError(err error) error {
	var ce *campaign.Error
	if errors.As(err, &ce) && ce.Code == campaign.NotFound && ce.Field == "batch" {
		return fmt.Errorf("%w; see 'megasend batches'", err)
	}
	return err
}
