package campaign

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/megasend/megasend/recipient"
	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/template"
)

// Spec describes a batch to create from a recipient source.
type Spec struct {
	// Name is the batch's name; "" names it after the template and the time.
	Name string
	// Template is what every recipient is sent; TemplateRef is how the
	// request named it (a key, or a file's path), which the batch records.
	Template    *template.Template
	TemplateRef string
	Source      Source
	// Audience, if set, is the batch's recipients instead of Source: the
	// account's followers or a tag's (see audience.go).
	Audience *AudienceSource
	Account  string
	Input    Input
	// Preview is how many rendered bodies to keep, from the first rows.
	Preview int
	// Fallback, if set, is sent instead to the recipients Template, a
	// customer-service message, cannot reach (45015, 45047): a template
	// message, kept with the batch as its template is (campaign
	// --fallback); FallbackRef is how the request named it.
	Fallback    *template.Template
	FallbackRef string
	// Policy, if set, is kept with the batch (a continued batch's is
	// replaced); nil: the batch follows its account's configuration, or
	// what an earlier run of it asked for.
	Policy *Policy
	// Schedule, if set, puts the batch in the service's hands before its
	// import (see Submit): written with the import's end instead, a kill
	// between the two would leave a ready batch that no runner takes.
	// DueBatches takes no batch still importing.
	Schedule *store.Schedule
}

// Imported is what reading a source found besides its recipients: value
// warnings, the first rendered bodies, and the duplicates skipped. It is
// returned with an error too, when there is something to show.
type Imported struct {
	store.ImportResult
	Warnings *Problems
	Previews [][]byte
	// Rows is how many recipient rows were read; a row the reader refused
	// (an implausible openid, a short line) is a problem, not a row.
	Rows int64
	// Outside is how many rows of a users file were left out for not
	// being in the audience the batch is restricted to.
	Outside int64
}

// Create creates the batch spec describes and imports its recipients, or,
// when a batch by that name exists, continues it if its input is the same
// (the same source bytes and template: a re-run cron line is safe).
//
// The batch comes back locked by this service (Release gives the lock up).
// Errors: Invalid (the template or a row refused, with Problems: the batch
// is not kept), Conflict (the name is taken by other input), Locked,
// Stopped (interrupted while importing: the batch stays, importing, for the
// same request or a resume to import again; it is returned too).
func (s *Service) Create(ctx context.Context, spec Spec) (*Batch, *Imported, error) {
	if err := CheckFallback(spec.Template, spec.Fallback, spec.FallbackRef); err != nil {
		return nil, nil, err
	}
	b, imp, err := s.create(ctx, spec)
	if b != nil {
		b.Fallback = spec.Fallback
		if err == nil && b.Created && spec.Fallback != nil {
			if ferr := s.checkFallbackRows(ctx, b.Batch, spec.Fallback); ferr != nil {
				return nil, imp, ferr
			}
		}
	}
	return b, imp, err
}

func (s *Service) create(ctx context.Context, spec Spec) (*Batch, *Imported, error) {
	t := spec.Template
	if _, err := CheckTemplate(t); err != nil {
		return nil, nil, err
	}
	src, rec := spec.Source, audienceRecord{}
	if au := spec.Audience; au != nil {
		if au.Users == nil {
			if err := checkSet(t, au.Set); err != nil {
				return nil, nil, err
			}
		}
		var err error
		if rec, err = resolveAudience(ctx, au); err != nil {
			return nil, nil, err
		}
		src = rec.source()
	}
	name := spec.Name
	if name == "" {
		name = fmt.Sprintf("%s-%s", KeyOf(t.Key), time.Now().Format("20060102-150405"))
	}
	nb := store.NewBatch{
		Name: name, TemplateRef: spec.TemplateRef, TemplateBody: t.Body(), TemplateHash: hashBytes(t.Body()),
		TemplateKind: string(t.Kind.OrDefault()), SourcePath: src.Path, SourceHash: src.Hash, Account: spec.Account,
	}
	if fb := spec.Fallback; fb != nil {
		nb.FallbackRef, nb.FallbackBody = spec.FallbackRef, fb.Body()
	}
	sb, err := s.db.CreateBatch(ctx, nb, s.owner)
	created := err == nil
	switch {
	case errors.Is(err, store.ErrExists):
		if sb, err = s.continueBatch(ctx, nb); err != nil {
			return nil, nil, err
		}
		if err := s.setPolicy(ctx, sb.ID, spec.Policy); err != nil {
			return nil, nil, err
		}
		if sb.Status != store.StatusImporting {
			return &Batch{Batch: sb, Template: t}, nil, nil
		}
	case err != nil:
		return nil, nil, err
	}
	if err := s.setPolicy(ctx, sb.ID, spec.Policy); err != nil {
		return nil, nil, err
	}
	if spec.Schedule != nil {
		if err := s.db.SetSchedule(ctx, sb.ID, *spec.Schedule); err != nil {
			return nil, nil, err
		}
	}
	var imp *Imported
	if au := spec.Audience; au != nil {
		imp, err = s.importAudience(ctx, sb, t, rec, au.Followers, au.Paged, au.Users, spec.Input, spec.Preview, created)
	} else {
		s.log.Info("importing recipients", "batch", sb.Name, "users", src.Name)
		imp, err = s.importInto(ctx, sb, t, src, spec.Input, spec.Preview)
	}
	if ErrorCode(err) == Stopped {
		return &Batch{Batch: sb, Template: t, Created: created}, imp, err
	}
	if err != nil {
		return nil, imp, err
	}
	sb, err = s.db.Batch(ctx, sb.Name)
	if err != nil {
		return nil, imp, err
	}
	return &Batch{Batch: sb, Template: t, Created: created}, imp, nil
}

// continueBatch handles a request for an existing batch: the same template
// and source continue it; anything else is refused, because it would mix
// two campaigns in one ledger.
func (s *Service) continueBatch(ctx context.Context, nb store.NewBatch) (store.Batch, error) {
	b, err := s.db.Batch(ctx, nb.Name)
	if err == nil {
		err = s.CheckLedger(ctx) // continuing is resuming: see Resume
	}
	if err != nil {
		return store.Batch{}, err
	}
	switch {
	case b.SourceHash != nb.SourceHash && (IsAudienceSource(b.SourcePath) || IsAudienceSource(nb.SourcePath)):
		return store.Batch{}, &Error{Code: Conflict, Field: "audience",
			Msg: fmt.Sprintf("batch %s exists with other recipients (%s, not %s)", b.Name, DescribeSource(b.SourcePath), DescribeSource(nb.SourcePath))}
	case b.SourceHash != nb.SourceHash && b.SourcePath != nb.SourcePath:
		return store.Batch{}, &Error{Code: Conflict, Field: "users",
			Msg: fmt.Sprintf("batch %s exists with a different users file (%s, not %s)", b.Name, b.SourcePath, nb.SourcePath)}
	case b.SourceHash != nb.SourceHash:
		return store.Batch{}, &Error{Code: Conflict, Field: "users",
			Msg: fmt.Sprintf("batch %s exists with users file %s, whose content has changed since", b.Name, b.SourcePath)}
	case b.TemplateHash != nb.TemplateHash:
		return store.Batch{}, &Error{Code: Conflict, Field: "template",
			Msg: fmt.Sprintf("batch %s exists with a different template", b.Name)}
	case !bytes.Equal(b.FallbackBody, nb.FallbackBody):
		return store.Batch{}, &Error{Code: Conflict, Field: "fallback",
			Msg: fmt.Sprintf("batch %s exists with a different --fallback (%s, not %s)", b.Name, orNone(b.FallbackRef), orNone(nb.FallbackRef))}
	case b.TemplateKind != nb.TemplateKind:
		return store.Batch{}, &Error{Code: Conflict, Field: "template",
			Msg: fmt.Sprintf("batch %s exists with a template of kind %s, not %s", b.Name, b.TemplateKind, nb.TemplateKind)}
	}
	if err := s.lock(ctx, b); err != nil {
		return store.Batch{}, err
	}
	s.log.Info("continuing existing batch", "batch", b.Name, "status", b.Status)
	return b, nil
}

// importInto streams src into batch b. On any input problem the batch is
// deleted again and an Invalid error returned: nothing is sent and nothing
// of the bad input remains.
func (s *Service) importInto(ctx context.Context, b store.Batch, t *template.Template, src Source, in Input, preview int) (*Imported, error) {
	return s.importRows(ctx, b, t, src, in, preview, rowFilter{})
}

// importRows is importInto with the rows shaped by f: shared variables
// added, rows outside an audience left out (and counted).
func (s *Service) importRows(ctx context.Context, b store.Batch, t *template.Template, src Source, in Input, preview int, f rowFilter) (*Imported, error) {
	im, err := s.db.NewImporter(ctx, b)
	if err != nil {
		return nil, err
	}
	c := newChecker(t, src.Name, preview)
	c.set = f.set
	var vars []byte
	var outside int64
	n, err := readRows(src, in, c, func(r recipient.Row) error {
		if f.keep != nil && !f.keep(r.OpenID) {
			outside++
			return nil
		}
		vars = recipient.AppendVarsJSON(vars[:0], r.Vars)
		return im.Add(ctx, int64(r.Line), r.OpenID, string(vars))
	})
	imp := &Imported{Warnings: &c.warns, Previews: c.previews, Rows: n, Outside: outside}
	if err == nil && c.errs.Count == 0 && n > 0 && outside == n {
		c.errs.Addf("%s: none of its %d %s is in audience %s: nothing to send", src.Name, n, Plural(int(n), "recipient"), f.audience)
	}
	interrupted := func() (*Imported, error) {
		// Not rejected: the batch stays "importing", and the same request
		// (or a resume) imports it again from the start.
		im.Abort()
		return imp, &Error{Code: Stopped, Msg: fmt.Sprintf("batch %s: interrupted while importing", b.Name), Err: context.Cause(ctx)}
	}
	if ctx.Err() != nil {
		return interrupted()
	}
	if err != nil || c.errs.Count > 0 {
		im.Abort()
		if derr := s.db.DeleteBatch(context.WithoutCancel(ctx), b.ID); derr != nil {
			return imp, errors.Join(err, derr)
		}
		if err != nil {
			return imp, err
		}
		return imp, inputError(src.Name, &c.errs)
	}
	res, err := im.Finish(ctx)
	if err != nil && ctx.Err() != nil {
		return interrupted()
	}
	if err != nil {
		return imp, err
	}
	imp.ImportResult = res
	return imp, nil
}
