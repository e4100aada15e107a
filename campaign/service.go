// Package campaign owns a batch's lifecycle: creating a batch from a
// recipient source or continuing the one that source made, importing it with
// every problem found at once, checking it without recording anything,
// proving the account before the first send, running it through the
// engine, replacing the template of a stopped batch, requeueing a selection
// for another try, and the data behind every report and export.
//
// Both of megasend's faces call it: the command line (cmd) and the HTTP
// service. Neither decides what happens to a batch; they turn requests
// into calls here and the results, and *Error codes, into their own words.
// It takes plain values (an options struct, a Source, a *store.DB, a WeChat
// client) and never reads flags, prompts, the terminal or the environment.
//
// A batch moves importing → ready → running → done, or paused (resumable:
// interrupted, daily quota, error threshold, batch-fatal error, WeChat out
// of reach). Its recipients move pending → inflight → sent, failed or
// unknown, or are skipped; the ledger (store) holds both.
package campaign

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/template"
)

// Service is the lifecycle of the batches in one database, for one process.
type Service struct {
	db    *store.DB
	owner string // who takes batch locks: store.Owner(pid, host)
	log   *slog.Logger

	// checked is set once the quick check has proved the file: a retry
	// checks before it requeues, and not again in the resume that follows.
	checked bool

	commits   committer     // single messages, made durable together
	templates templateCache // single messages' templates, parsed once
	caps      *capClaims    // the capped sends in flight, for every account

	mu      sync.Mutex
	runners map[string]*Runner // by account: the service's background senders
}

// New returns the lifecycle of db's batches for the process owner, which
// names it in batch locks (store.Owner). A nil log discards.
func New(db *store.DB, owner string, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, owner: owner, log: log, runners: map[string]*Runner{}, commits: committer{db: db},
		caps: newCapClaims(db)}
}

// Batch is a batch as the lifecycle hands it out: the ledger's row and the
// template it sends.
type Batch struct {
	store.Batch
	Template *template.Template
	// Fallback, if set, is sent to the recipients Template, a
	// customer-service message, cannot reach (campaign --fallback).
	Fallback *template.Template
	// Created reports that this call created the batch.
	Created bool
}

// Find returns the batch called name. Returns a NotFound error if there is
// none.
func (s *Service) Find(ctx context.Context, name string) (store.Batch, error) {
	b, err := s.db.Batch(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return store.Batch{}, &Error{Code: NotFound, Field: "batch", Msg: fmt.Sprintf("no batch %q", name), Err: err}
	}
	return b, err
}

// Release gives up the lock on b this service took, if it holds it.
func (s *Service) Release(ctx context.Context, b *Batch) error {
	return s.db.Unlock(context.WithoutCancel(ctx), b.ID, s.owner)
}

// lock takes batch b's lock for this process. Another live holder is a
// Locked error naming it: a runtime condition, not bad input, since the same
// request works once that process is done.
func (s *Service) lock(ctx context.Context, b store.Batch) error {
	err := s.db.Lock(ctx, b.ID, s.owner)
	var le *store.LockedError
	if errors.As(err, &le) {
		return &Error{Code: Locked, Err: le,
			Msg: le.Error() + "; nothing was sent by this process (the batch can be resumed when it ends)"}
	}
	return err
}

// CheckLedger runs SQLite's quick check of the whole file, once per
// Service: a damaged ledger must not decide who is sent next. It costs a
// read of the file (about 0.7 s for a million recipients).
func (s *Service) CheckLedger(ctx context.Context) error {
	if s.checked {
		return nil
	}
	start := time.Now()
	if err := s.db.QuickCheck(ctx); err != nil {
		return err
	}
	s.checked = true
	s.log.Debug("database checked", "check", "quick_check", "took", time.Since(start).Round(time.Millisecond))
	return nil
}
