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

	"github.com/urfave/cli/v2"

	"github.com/megasend/megasend/campaign"
	"github.com/megasend/megasend/recipient"
	"github.com/megasend/megasend/store"
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

// bomAdvice adds to the lifecycle's error for a value GBK cannot hold
// what to use instead, as a usage error; other errors pass unchanged.
func bomAdvice(err error) error {
	var ee *recipient.EncodeError
	if !errors.As(err, &ee) {
		return err
	}
	return usageError(fmt.Errorf("%w: use --%s instead (UTF-8 with a byte order mark, which Excel reads and which holds every character)", err, flgBOM))
}

// writeReportJSON writes the report as one JSON document.
func writeReportJSON(w io.Writer, rep *campaign.Report) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// writeRowsJSONL writes one JSON object per recipient, in line order.
func writeRowsJSONL(ctx context.Context, w io.Writer, svc *campaign.Service, b store.Batch) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return svc.Rows(ctx, b, nil, func(r campaign.Row) error {
		return enc.Encode(r)
	})
}

// rowColumns are the ledger's columns in report --format csv; the
// variables follow them.
var rowColumns = []string{"line", "openid", "state", "attempts", "errcode", "errmsg", "msgid", "kind"}

// writeRowsCSV writes one CSV record per recipient, in line order: the
// ledger's columns, then every variable. A variable whose name is one of
// the ledger's columns is headed var_NAME.
func writeRowsCSV(ctx context.Context, w io.Writer, svc *campaign.Service, b store.Batch, o exportOptions) error {
	wo, err := o.writer(formatCSV)
	if err != nil {
		return err
	}
	vars, err := svc.VarColumns(ctx, b, nil)
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
	err = svc.Rows(ctx, b, nil, func(r campaign.Row) error {
		clear(record)
		record[0], record[1], record[2], record[3] = strconv.FormatInt(r.Line, 10), r.OpenID, r.State, strconv.Itoa(r.Attempts)
		if r.Errcode != nil {
			record[4] = strconv.Itoa(*r.Errcode)
		}
		record[5] = r.Errmsg
		if r.MsgID != nil {
			record[6] = *r.MsgID
		}
		record[7] = r.Kind
		var err error
		if rv, err = recipient.ParseVarsJSON(string(r.Vars), rv[:0]); err != nil {
			return fmt.Errorf("batch %s line %d: %w", b.Name, r.Line, err)
		}
		for _, v := range rv {
			record[index[v.Name]] = v.Value
		}
		return bomAdvice(campaign.EncodeError(b.Name, r.Line, r.OpenID, cw.Write(record)))
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
// that campaign --users reads back (campaign.Service.ExportFailed), in the
// format and bytes chosen, to output.
func (a *app) exportFailed(ctx context.Context, svc *campaign.Service, b store.Batch, format, output string, o exportOptions) error {
	wo, err := o.writer(format)
	if err != nil {
		return err
	}
	f := recipient.FormatCSV
	if format == formatJSONL {
		f = recipient.FormatJSONL
	}
	var n int64
	err = a.writeOutput(output, func(w io.Writer) error {
		var werr error
		n, werr = svc.ExportFailed(ctx, b, w, f, wo)
		return bomAdvice(werr)
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
