package campaign

// The failed-rows export: a batch's failed and unknown recipients as a
// recipient file that a new batch (campaign --users) reads back. Which rows,
// which columns and the shape are decided here; the face chooses the
// bytes (recipient.WriterOptions) and where they go.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/megasend/megasend/recipient"
	"github.com/megasend/megasend/store"
)

// The two variables the export adds to each row: what WeChat answered. A
// template does not use them; a re-export of an exported file replaces them.
const (
	exportErrcode = "errcode"
	exportErrmsg  = "errmsg"
)

// ExportColumns returns the variable columns of batch b's failed export:
// the variables of its failed and unknown recipients in the order they
// first appear, then errcode and errmsg.
func (s *Service) ExportColumns(ctx context.Context, b store.Batch) ([]string, error) {
	cols, err := s.VarColumns(ctx, b, FailedStates())
	if err != nil {
		return nil, err
	}
	kept := cols[:0]
	for _, c := range cols {
		if c != exportErrcode && c != exportErrmsg {
			kept = append(kept, c)
		}
	}
	return append(kept, exportErrcode, exportErrmsg), nil
}

// ExportFailed writes batch b's failed and unknown recipients to w as a
// recipient file of format f (recipient.FormatCSV or FormatJSONL), in the
// bytes o chooses, that a new batch reads back: openid, the original
// variables in their original order, then errcode and errmsg. It reads the
// rows twice (the columns first) and holds one at a time. It returns how
// many recipients it wrote.
//
// Errors: Invalid, wrapping a *recipient.EncodeError, for a value o's
// encoding cannot hold (see EncodeError); the writer's.
func (s *Service) ExportFailed(ctx context.Context, b store.Batch, w io.Writer, f recipient.Format, o recipient.WriterOptions) (int64, error) {
	cols, err := s.ExportColumns(ctx, b)
	if err != nil {
		return 0, err
	}
	rw, err := recipient.NewWriterOptions(w, f, cols, o)
	if err != nil {
		return 0, err
	}
	var (
		n    int64
		vars []recipient.Var
	)
	err = s.db.Recipients(ctx, b.ID, FailedStates(), func(r store.Recipient) error {
		var err error
		if vars, err = recipient.ParseVarsJSON(r.Vars, vars[:0]); err != nil {
			return fmt.Errorf("batch %s line %d: %w", b.Name, r.Line, err)
		}
		kept := vars[:0]
		for _, v := range vars {
			if v.Name != exportErrcode && v.Name != exportErrmsg {
				kept = append(kept, v)
			}
		}
		vars = append(kept, recipient.Var{Name: exportErrcode, Value: strconv.Itoa(r.Errcode)},
			recipient.Var{Name: exportErrmsg, Value: r.Errmsg})
		n++
		return EncodeError(b.Name, r.Line, r.OpenID, rw.Write(r.OpenID, vars))
	})
	if err != nil {
		return n, err
	}
	return n, rw.Flush()
}

// EncodeError returns err, from writing recipient line (openid) of batch,
// as an Invalid Error that names them when it is a value the chosen
// encoding cannot hold (a *recipient.EncodeError, which it wraps, with the
// column as Field); any other error, and nil, come back as they are.
func EncodeError(batch string, line int64, openid string, err error) error {
	var ee *recipient.EncodeError
	if !errors.As(err, &ee) {
		return err
	}
	return &Error{Code: Invalid, Field: ee.Column, Err: err,
		Msg: fmt.Sprintf("batch %s line %d (%s): %s: %q (U+%04X) cannot be written in %s; nothing was written",
			batch, line, openid, ee.Column, ee.Char, ee.Char, ee.Encoding)}
}
