package cmd

// The machine-readable side of report: the JSON document, the per-recipient
// CSV and JSONL, and the failed-recipients export. Every per-recipient output
// streams from the ledger, so a batch of a million rows costs no more memory
// than one of ten; CSV needs its columns first, so it reads the rows twice.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/megasend/megasend/campaign"
	"github.com/megasend/megasend/recipient"
	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/template"
	"github.com/megasend/megasend/wechat"
)

// exportOptions are report's --encoding and --bom: the bytes of the CSV it
// writes. Excel on Chinese Windows reads a CSV without a byte order mark as
// GBK, so plain UTF-8 shows as mojibake there; --bom (UTF-8 with a byte
// order mark) is what Excel since 2016 reads right, with every character;
// --encoding gbk is for older Excel and systems that insist, and refuses a
// value GBK cannot hold.
type exportOptions struct {
	encoding string
	bom      bool
}

// exportFlags are --encoding and --bom, writing into *o.
func exportFlags(o *exportOptions) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: flgEncoding, Usage: "write CSV in `NAME`: utf-8 (the default) or gbk (older Excel on Chinese Windows)", Destination: &o.encoding},
		&cli.BoolFlag{Name: flgBOM, Usage: "begin a UTF-8 CSV with a byte order mark, so that Excel reads it as UTF-8", Destination: &o.bom},
	}
}

// writer is the recipient package's form of o. It refuses them for a
// format other than CSV (JSON is UTF-8 by definition), and an unknown
// encoding or GBK with a byte order mark, as usage errors.
func (o exportOptions) writer(format string) (recipient.WriterOptions, error) {
	wo := recipient.WriterOptions{Encoding: o.encoding, BOM: o.bom}
	if format != formatCSV && (o.encoding != "" || o.bom) {
		return wo, usageErrorf("--%s and --%s are for CSV, which spreadsheets open; %s is always UTF-8", flgEncoding, flgBOM, format)
	}
	if _, err := recipient.NewCSVWriter(io.Discard, wo); err != nil {
		return wo, usageErrorf("--%s %q: %w", flgEncoding, o.encoding, err)
	}
	return wo, nil
}

// encodeError turns a value GBK cannot hold into a usage error naming the
// recipient and saying what to use instead; other errors pass unchanged.
func encodeError(b store.Batch, r store.Recipient, err error) error {
	var ee *recipient.EncodeError
	if !errors.As(err, &ee) {
		return err
	}
	return usageErrorf("batch %s line %d (%s): %s: %q (U+%04X) cannot be written in %s; nothing was written: "+
		"use --%s instead (UTF-8 with a byte order mark, which Excel reads and which holds every character)",
		b.Name, r.Line, r.OpenID, ee.Column, ee.Char, ee.Char, ee.Encoding, flgBOM)
}

// countsJSON is store.Counts for machines.
type countsJSON struct {
	Total    int64 `json:"total"`
	Sent     int64 `json:"sent"`
	Failed   int64 `json:"failed"`
	Unknown  int64 `json:"unknown"`
	Pending  int64 `json:"pending"`
	Inflight int64 `json:"inflight"`
	// RetriedLate is not a state: recipients tried once more at the end of a run.
	RetriedLate int64 `json:"retried_late"`
	Skipped     int64 `json:"skipped"`
}

func newCountsJSON(c store.Counts) countsJSON {
	return countsJSON{Total: c.Total(), Sent: c.Sent, Failed: c.Failed, Unknown: c.Unknown,
		Pending: c.Pending, Inflight: c.Inflight, Skipped: c.Skipped, RetriedLate: c.RetriedLate}
}

// batchJSON describes a batch; report --format json and batches --json share it.
type batchJSON struct {
	Name            string     `json:"name"`
	Status          string     `json:"status"`
	Abandoned       bool       `json:"abandoned"` // its sending process is gone: resume it
	PauseReason     string     `json:"pause_reason"`
	Template        string     `json:"template"`
	TemplateID      string     `json:"template_id"`
	Source          string     `json:"source"`
	Account         string     `json:"account"`
	Total           int64      `json:"total"`
	CreatedAt       time.Time  `json:"created_at"`
	LastActivity    time.Time  `json:"last_activity"`
	FinishedAt      *time.Time `json:"finished_at"`
	DurationSeconds float64    `json:"duration_seconds"`
}

// newBatchJSON describes b, last active at last (lastActivity).
func newBatchJSON(b store.Batch, abandoned bool, last time.Time) batchJSON {
	j := batchJSON{
		Name: b.Name, Status: b.Status, Abandoned: abandoned, PauseReason: b.PauseReason, Template: b.TemplateRef,
		Source: b.SourcePath, Account: b.Account, Total: b.Total, CreatedAt: b.CreatedAt, LastActivity: last,
		DurationSeconds: batchDuration(b, last).Seconds(),
	}
	if t, err := template.Parse(campaign.KeyOf(b.TemplateRef), "", b.TemplateBody); err == nil {
		j.TemplateID = t.TemplateID()
	}
	if !b.FinishedAt.IsZero() {
		j.FinishedAt = &b.FinishedAt
	}
	return j
}

// failureJSON is one failure group with what it means.
type failureJSON struct {
	State   string `json:"state"`
	Errcode int    `json:"errcode"`
	Class   string `json:"class"`
	Count   int64  `json:"count"`
	Meaning string `json:"meaning"`
	Advice  string `json:"advice"`
	Errmsg  string `json:"errmsg"` // one example
}

// rowJSON is one recipient: a failed row of the JSON document, a line of
// report --format jsonl.
type rowJSON struct {
	Line     int64           `json:"line"`
	OpenID   string          `json:"openid"`
	State    string          `json:"state"`
	Attempts int             `json:"attempts"`
	Errcode  *int            `json:"errcode"`
	Errmsg   string          `json:"errmsg"`
	MsgID    *string         `json:"msgid"` // a string: msgids pass 2^53, where JavaScript and jq round numbers
	Vars     json.RawMessage `json:"vars"`  // in input order, as the ledger keeps them
}

func newRowJSON(r store.Recipient) rowJSON {
	j := rowJSON{Line: r.Line, OpenID: r.OpenID, State: r.State, Attempts: r.Attempts, Errmsg: r.Errmsg, Vars: json.RawMessage(r.Vars)}
	if hasErrcode(r) {
		j.Errcode = &r.Errcode
	}
	if r.MsgID != 0 {
		id := strconv.FormatInt(r.MsgID, 10)
		j.MsgID = &id
	}
	if len(j.Vars) == 0 {
		j.Vars = json.RawMessage(`{}`)
	}
	return j
}

// hasErrcode reports whether a row's errcode means something: failed and
// unknown rows always have one (0 included), others only the last error of
// an attempt that was released.
func hasErrcode(r store.Recipient) bool {
	return r.State == store.StateFailed || r.State == store.StateUnknown || r.Errcode != 0
}

// writeReportJSON writes the report as one JSON document.
func (a *app) writeReportJSON(ctx context.Context, w io.Writer, db *store.DB, b store.Batch, audit store.Audit) error {
	c := audit.Counts
	groups, err := db.FailureGroups(ctx, b.ID)
	if err != nil {
		return err
	}
	doc := struct {
		Batch      batchJSON     `json:"batch"`
		Counts     countsJSON    `json:"counts"`
		Failures   []failureJSON `json:"failures"`
		FailedRows []rowJSON     `json:"failed_rows"` // the first reportFirstFailed, in line order
	}{Batch: newBatchJSON(b, a.abandoned(db, b), lastActivity(b, audit)), Counts: newCountsJSON(c), Failures: []failureJSON{}, FailedRows: []rowJSON{}}
	for _, g := range groups {
		meaning, advice := describe(g, b.Name)
		doc.Failures = append(doc.Failures, failureJSON{State: g.State, Errcode: g.Errcode, Class: wechat.Classify(g.Errcode).String(),
			Count: g.Count, Meaning: meaning, Advice: advice, Errmsg: g.Errmsg})
	}
	err = db.Recipients(ctx, b.ID, failedStates, firstN(reportFirstFailed, func(r store.Recipient) error {
		doc.FailedRows = append(doc.FailedRows, newRowJSON(r))
		return nil
	}))
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// writeRowsJSONL writes one JSON object per recipient, in line order.
func writeRowsJSONL(ctx context.Context, w io.Writer, db *store.DB, b store.Batch) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return db.Recipients(ctx, b.ID, nil, func(r store.Recipient) error {
		return enc.Encode(newRowJSON(r))
	})
}

// rowColumns are the ledger's columns in report --format csv; the
// variables follow them.
var rowColumns = []string{"line", "openid", "state", "attempts", "errcode", "errmsg", "msgid"}

// writeRowsCSV writes one CSV record per recipient, in line order: the
// ledger's columns, then every variable. A variable whose name is one of
// the ledger's columns is headed var_NAME.
func writeRowsCSV(ctx context.Context, w io.Writer, db *store.DB, b store.Batch, o exportOptions) error {
	wo, err := o.writer(formatCSV)
	if err != nil {
		return err
	}
	vars, err := varColumns(ctx, db, b.ID, nil)
	if err != nil {
		return err
	}
	header := append([]string(nil), rowColumns...)
	index := make(map[string]int, len(vars))
	for _, v := range vars {
		index[v] = len(header)
		header = append(header, csvHeading(v, header))
	}
	cw, err := recipient.NewCSVWriter(w, wo)
	if err != nil {
		return err
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	record := make([]string, len(header))
	var rv []recipient.Var
	err = db.Recipients(ctx, b.ID, nil, func(r store.Recipient) error {
		clear(record)
		record[0], record[1], record[2], record[3] = strconv.FormatInt(r.Line, 10), r.OpenID, r.State, strconv.Itoa(r.Attempts)
		if hasErrcode(r) {
			record[4] = strconv.Itoa(r.Errcode)
		}
		record[5] = r.Errmsg
		if r.MsgID != 0 {
			record[6] = strconv.FormatInt(r.MsgID, 10)
		}
		var err error
		if rv, err = recipient.ParseVarsJSON(r.Vars, rv[:0]); err != nil {
			return fmt.Errorf("batch %s line %d: %w", b.Name, r.Line, err)
		}
		for _, v := range rv {
			record[index[v.Name]] = v.Value
		}
		return encodeError(b, r, cw.Write(record))
	})
	if err != nil {
		return err
	}
	return cw.Flush()
}

// csvHeading names a variable's column so that it differs from every
// heading before it.
func csvHeading(name string, taken []string) string {
	for {
		clash := false
		for _, t := range taken {
			clash = clash || t == name
		}
		if !clash {
			return name
		}
		name = "var_" + name
	}
}

// exportFailed writes the failed and unknown recipients as a recipient file
// that campaign --users reads back: openid, the original variables in their
// original order, then errcode and errmsg. The last two are variables the
// template does not use; a re-export of such a file replaces them.
func (a *app) exportFailed(ctx context.Context, db *store.DB, b store.Batch, format, output string, o exportOptions) error {
	wo, err := o.writer(format)
	if err != nil {
		return err
	}
	cols, err := varColumns(ctx, db, b.ID, failedStates)
	if err != nil {
		return err
	}
	kept := cols[:0]
	for _, c := range cols {
		if c != "errcode" && c != "errmsg" {
			kept = append(kept, c)
		}
	}
	cols = append(kept, "errcode", "errmsg")
	f := recipient.FormatCSV
	if format == formatJSONL {
		f = recipient.FormatJSONL
	}
	var n int64
	err = a.writeOutput(output, func(w io.Writer) error {
		rw, err := recipient.NewWriterOptions(w, f, cols, wo)
		if err != nil {
			return err
		}
		var vars []recipient.Var
		err = db.Recipients(ctx, b.ID, failedStates, func(r store.Recipient) error {
			if vars, err = recipient.ParseVarsJSON(r.Vars, vars[:0]); err != nil {
				return fmt.Errorf("batch %s line %d: %w", b.Name, r.Line, err)
			}
			kept := vars[:0]
			for _, v := range vars {
				if v.Name != "errcode" && v.Name != "errmsg" {
					kept = append(kept, v)
				}
			}
			vars = append(kept, recipient.Var{Name: "errcode", Value: strconv.Itoa(r.Errcode)},
				recipient.Var{Name: "errmsg", Value: r.Errmsg})
			n++
			return encodeError(b, r, rw.Write(r.OpenID, vars))
		})
		if err != nil {
			return err
		}
		return rw.Flush()
	})
	if err != nil {
		return err
	}
	if n == 0 {
		a.log.Info("batch has no failed or unknown recipients; the export is empty", "batch", b.Name)
		return nil
	}
	attrs := []any{"batch", b.Name, "recipients", n}
	if output != "" && output != "-" {
		attrs = append(attrs, "file", output, "send_again",
			fmt.Sprintf("megasend campaign --template %s --users %s", shellQuote(b.TemplateRef), shellQuote(output)))
	}
	a.log.Info("exported failed and unknown recipients", attrs...)
	return nil
}

// varColumns returns the names of the variables of a batch's rows in the
// given states, in the order they first appear: the header of a CSV source,
// the union of the keys of a JSONL one.
func varColumns(ctx context.Context, db *store.DB, batchID int64, states []string) ([]string, error) {
	var cols []string
	seen := map[string]bool{}
	var vars []recipient.Var
	err := db.Recipients(ctx, batchID, states, func(r store.Recipient) error {
		var err error
		if vars, err = recipient.ParseVarsJSON(r.Vars, vars[:0]); err != nil {
			return fmt.Errorf("line %d: %w", r.Line, err)
		}
		for _, v := range vars {
			if !seen[v.Name] {
				seen[v.Name] = true
				cols = append(cols, v.Name)
			}
		}
		return nil
	})
	return cols, err
}
