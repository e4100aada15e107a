package campaign

import (
	"context"
	"errors"
	"fmt"

	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/template"
)

// ResumeSpec describes how to continue a batch.
type ResumeSpec struct {
	Name string
	// Template, if set, replaces the batch's template (TemplateRef is how
	// the request named it): every recipient still to be sent must fit it.
	Template    *template.Template
	TemplateRef string
	// Input reads the recorded source again, for a batch whose import was
	// interrupted; a batch imported already refuses an Encoding.
	Input   Input
	Preview int
	// Policy, if set, replaces what the batch was asked to observe.
	Policy *Policy
	// Followers pages the audience again for a batch made from one whose
	// import was interrupted (the account's WeChat client); Paged shows
	// it, as AudienceSource's.
	Followers Followers
	Paged     func(paged, total int64)
}

// Resume takes batch spec.Name up again: it proves the ledger sound, takes
// the batch's lock, replaces its template if asked, and finishes an import
// an interrupted run left half done. The batch comes back locked.
//
// Errors: NotFound, Locked, Invalid (a replacement that does not fit, with
// Problems; a kept template lint now refuses; an import that cannot be
// finished), Stopped (interrupted while importing again).
func (s *Service) Resume(ctx context.Context, spec ResumeSpec) (*Batch, *Imported, error) {
	b, imp, err := s.resume(ctx, spec)
	if b != nil {
		var ferr error
		if b.Fallback, ferr = batchFallback(b.Batch); ferr != nil {
			return nil, imp, errors.Join(ferr, s.Release(ctx, b))
		}
	}
	return b, imp, err
}

func (s *Service) resume(ctx context.Context, spec ResumeSpec) (*Batch, *Imported, error) {
	b, err := s.Find(ctx, spec.Name)
	if err == nil {
		err = s.CheckLedger(ctx) // a damaged ledger must not decide who is sent next
	}
	if err != nil {
		return nil, nil, err
	}
	if spec.Input.Encoding != "" && b.Status != store.StatusImporting {
		// Only an import a killed run left half done reads the file again.
		return nil, nil, &Error{Code: Invalid, Field: "encoding",
			Msg: fmt.Sprintf("batch %s has imported its users already: --resume reads no users file; drop --encoding", b.Name)}
	}
	if err := s.lock(ctx, b); err != nil {
		return nil, nil, err
	}
	if err := s.setPolicy(ctx, b.ID, spec.Policy); err != nil {
		return nil, nil, err
	}
	if spec.Template != nil {
		if b.Status == store.StatusImporting {
			return nil, nil, Errorf(Invalid, "batch %s has not finished importing; resume it with its own template first", b.Name)
		}
		if err := s.ReplaceTemplate(ctx, b, spec.Template, spec.TemplateRef); err != nil {
			return nil, nil, err
		}
		return &Batch{Batch: b, Template: spec.Template}, nil, nil
	}
	t, err := batchTemplate(b)
	if err != nil {
		return nil, nil, err
	}
	if b.Status != store.StatusImporting {
		return &Batch{Batch: b, Template: t}, nil, nil
	}
	imp, err := s.reimport(ctx, b, t, spec)
	if ErrorCode(err) == Stopped {
		return &Batch{Batch: b, Template: t}, imp, err
	}
	if err != nil {
		return nil, imp, err
	}
	if b, err = s.db.Batch(ctx, b.Name); err != nil {
		return nil, imp, err
	}
	return &Batch{Batch: b, Template: t}, imp, nil
}

// reimport finishes an import that a killed run left half done: from the
// recorded source, if it still has the same content.
func (s *Service) reimport(ctx context.Context, b store.Batch, t *template.Template, spec ResumeSpec) (*Imported, error) {
	in, preview := spec.Input, spec.Preview
	if IsAudienceSource(b.SourcePath) {
		// The snapshot was not complete: page the audience again, from
		// the start, as recorded (a tag by its id).
		rec, err := parseAudienceRecord(b.SourcePath)
		if err != nil {
			return nil, err
		}
		return s.importAudience(ctx, b, t, rec, spec.Followers, spec.Paged, nil, in, preview, false)
	}
	if b.SourcePath == "-" {
		return nil, Errorf(Invalid, "batch %s was interrupted while importing from stdin; run the original command again", b.Name)
	}
	src, err := FileSource(b.SourcePath)
	if err != nil || src.Hash != b.SourceHash {
		return nil, Errorf(Invalid, "batch %s was interrupted while importing and %s changed or is gone; start a new batch", b.Name, b.SourcePath)
	}
	return s.importInto(ctx, b, t, src, in, preview)
}
