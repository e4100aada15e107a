package cmd

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/megasend/megasend/campaign"
	"github.com/megasend/megasend/store"
)

// Report formats (--format).
const (
	formatTable = "table"
	formatJSON  = "json"
	formatCSV   = "csv"
	formatJSONL = "jsonl"
)

// reportOptions are the parsed flags of megasend report.
type reportOptions struct {
	name   string
	format string
	failed bool
	output string
	export exportOptions // --encoding, --bom
}

func (a *app) reportCommand() *cli.Command {
	var o reportOptions
	return &cli.Command{
		Name:      "report",
		Usage:     "tell what happened to a batch: counts, failures by errcode, the failed rows",
		ArgsUsage: "NAME",
		UsageText: `megasend report NAME [--format table|json|csv|jsonl] [--output FILE]
megasend report NAME --failed [--output FILE] [--format csv|jsonl]

table (the default) is for people; json is one document (batch, counts, failures by
errcode with what they mean, the first failed rows); csv and jsonl have one line per
recipient. --failed writes the failed and unknown recipients as a recipient file:
openid, the original variables, errcode and errmsg. 'campaign --users' takes it back.`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: flgFormat, Usage: "`FORMAT`: table, json, csv or jsonl", Destination: &o.format},
			&cli.BoolFlag{Name: flgFailed, Usage: "export the failed and unknown recipients as a recipient file", Destination: &o.failed},
			&cli.StringFlag{Name: flgOutput, Aliases: []string{"o"}, Usage: "write to `FILE` instead of stdout", Destination: &o.output},
		}, exportFlags(&o.export)...),
		Action: func(c *cli.Context) error {
			args, err := parseInterleaved(c, &o)
			if err != nil {
				return err
			}
			if o.name, err = oneName(c, args); err != nil {
				return err
			}
			return a.runReport(c.Context, o)
		},
	}
}

// runReport writes the report of one batch in the chosen format.
func (a *app) runReport(ctx context.Context, o reportOptions) error {
	format, err := o.resolveFormat()
	if err != nil {
		return err
	}
	db, svc, err := a.openService(ctx)
	if path, ok := noStore(err); ok {
		return usageErrorf("no batch %q: there is no database at %s", o.name, path)
	}
	if err != nil {
		return err
	}
	defer db.Close()
	if format == formatTable || format == formatJSON {
		rep, err := svc.Report(ctx, o.name)
		if err != nil {
			return a.batchError(err) // Main says what to do with a damaged ledger
		}
		if _, err := o.export.writer(format); err != nil {
			return err
		}
		return a.writeOutput(o.output, func(w io.Writer) error {
			if format == formatJSON {
				return writeReportJSON(w, rep)
			}
			return a.writeReportTable(w, rep)
		})
	}
	b, err := svc.Audited(ctx, o.name)
	if err != nil {
		return a.batchError(err)
	}
	if o.failed {
		return a.exportFailed(ctx, svc, b, format, o.output, o.export)
	}
	if _, err := o.export.writer(format); err != nil {
		return err
	}
	return a.writeOutput(o.output, func(w io.Writer) error {
		if format == formatCSV {
			return writeRowsCSV(ctx, w, svc, b, o.export)
		}
		return writeRowsJSONL(ctx, w, svc, b)
	})
}

// openService opens the database for a command that only reads it, or
// removes batches, and the lifecycle over it; the caller closes the store.
// A missing database is a *noStoreError (see noStore).
func (a *app) openService(ctx context.Context) (*store.DB, *campaign.Service, error) {
	db, err := a.openStoreToRead(ctx)
	if err != nil {
		return nil, nil, err
	}
	return db, campaign.New(db, a.owner(), a.log), nil
}

// resolveFormat applies the defaults: table for the report; for --failed,
// CSV unless the output file ends in .jsonl.
func (o reportOptions) resolveFormat() (string, error) {
	f := strings.ToLower(o.format)
	if o.failed {
		switch f {
		case "":
			if formatOf(o.output) == formatJSONL {
				return formatJSONL, nil
			}
			return formatCSV, nil
		case formatCSV, formatJSONL:
			return f, nil
		}
		return "", usageErrorf("report --failed writes a recipient file: --format csv or jsonl, not %q", o.format)
	}
	switch f {
	case "":
		return formatTable, nil
	case formatTable, formatJSON, formatCSV, formatJSONL:
		return f, nil
	}
	return "", usageErrorf("--format: want table, json, csv or jsonl, got %q", o.format)
}

// formatOf guesses an export format from a file name.
func formatOf(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jsonl", ".ndjson":
		return formatJSONL
	}
	return formatCSV
}

// writeReportTable writes the report for people.
func (a *app) writeReportTable(w io.Writer, rep *campaign.Report) error {
	b, c := rep.Batch, rep.Counts
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "batch\t%s\n", b.Name)
	status := b.Status
	if b.PauseReason != "" {
		status += ": " + b.PauseReason
	}
	switch {
	case b.Abandoned:
		fmt.Fprintf(tw, "status\t%s, but the process sending it (pid %s on %s) is gone: resume to finish\n", status, b.Lock.PID, b.Lock.Host)
	case b.Lock != nil:
		fmt.Fprintf(tw, "status\t%s\n", status)
		fmt.Fprintf(tw, "locked\tby pid %s on %s since %s\n", b.Lock.PID, b.Lock.Host, fmtTime(b.Lock.Since))
	default:
		fmt.Fprintf(tw, "status\t%s\n", status)
	}
	fmt.Fprintf(tw, "template\t%s\n", templateLine(b))
	fmt.Fprintf(tw, "source\t%s\n", sourceName(b.Source))
	fmt.Fprintf(tw, "account\t%s\n", b.Account)
	fmt.Fprintf(tw, "created\t%s\n", fmtTime(b.CreatedAt))
	if b.FinishedAt != nil {
		fmt.Fprintf(tw, "finished\t%s\n", fmtTime(*b.FinishedAt))
	} else {
		fmt.Fprintf(tw, "last activity\t%s\n", fmtTime(b.LastActivity))
	}
	fmt.Fprintf(tw, "duration\t%s\n", b.Duration.Round(time.Second))
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(w, "\nrecipients %d\n", c.Total)
	fmt.Fprintf(w, "  sent     %8d%s\n", c.Sent, sentKinds(rep))
	fmt.Fprintf(w, "  failed   %8d\n", c.Failed)
	fmt.Fprintf(w, "  unknown  %8d  (may have been delivered; resent only with retry --unknown)\n", c.Unknown)
	fmt.Fprintf(w, "  pending  %8d\n", c.Pending+c.Inflight)
	fmt.Fprintf(w, "  skipped  %8d  (%s)\n", c.Skipped, skippedText(rep.SkippedReasons))
	writeRetriedLate(w, c.RetriedLate)
	if r := rep.Receipts; r.Success+r.UserBlock+r.SystemFailed > 0 {
		// Only once a receipt came: an account without a callback URL
		// never gets one, and "awaiting" would wait forever.
		fmt.Fprintf(w, "  receipts: %d delivered, %d user block, %d system failed, %d awaiting\n",
			r.Success, r.UserBlock, r.SystemFailed, r.Awaiting)
	}

	if len(rep.Failures) > 0 {
		fmt.Fprintln(w, "\nfailures by errcode:")
		for _, f := range rep.Failures {
			fmt.Fprintf(w, "  %-7d %6d  %-8s %s\n", f.Errcode, f.Count, f.State, f.Meaning)
			if f.Advice != "" {
				fmt.Fprintf(w, "  %-7s %6s  %-8s what to do: %s\n", "", "", "", f.Advice)
			}
		}
		fmt.Fprintf(w, "\nfirst failed recipients:\n")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  LINE\tOPENID\tSTATE\tERRCODE\tERRMSG")
		for _, r := range rep.FailedRows {
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%d\t%s\n", r.Line, r.OpenID, r.State, *r.Errcode, oneLine(r.Errmsg))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if n := rep.FailedNotShown(); n > 0 {
			fmt.Fprintf(w, "  ... and %d more\n", n)
		}
	}

	var next []string
	switch {
	case rep.NeedsNewTemplate():
		// The batch's own template would be refused again, as the run
		// that paused it said: only a resume with another one can work.
		next = append(next, "resume:  "+a.resumeCommand(b.Name, false, "--"+flgTemplate, "FIXED"))
	case rep.Resumable():
		next = append(next, "resume:  "+a.resumeCommand(b.Name, false))
	}
	if c.Failed+c.Unknown > 0 {
		next = append(next,
			"export:  "+a.commandLine("report", shellQuote(b.Name), "--failed", "--output", "failed.csv"),
			"retry:   "+a.commandLine("retry", shellQuote(b.Name), "[--errcode CODE,...]", "[--unknown]"))
	}
	if len(next) > 0 {
		fmt.Fprintf(w, "\n%s\n", strings.Join(next, "\n"))
	}
	return nil
}

// templateLine names a batch's template and its template_id.
func templateLine(b campaign.BatchInfo) string {
	line := b.Template
	if b.TemplateID != "" {
		line = fmt.Sprintf("%s (template_id %s)", b.Template, b.TemplateID)
	}
	if b.Kind != "" && b.Kind != store.KindTemplate {
		line += ", kind " + b.Kind
	}
	if b.Fallback != "" {
		line += ", fallback " + b.Fallback
	}
	return line
}

// sentKinds is "  (custom 700, template 200)": the kinds that reached the
// sent recipients, for a batch that is not all template messages.
func sentKinds(rep *campaign.Report) string {
	if len(rep.SentByKind) == 1 && rep.SentByKind[store.KindTemplate] > 0 && rep.Batch.Fallback == "" {
		return ""
	}
	if k := kindCounts(rep.SentByKind, ""); k != "" {
		return "  (" + k + ")"
	}
	return ""
}

// kindCounts is "custom 700, template 200", after prefix; "" for none.
func kindCounts(byKind map[string]int64, prefix string) string {
	var parts []string
	for _, k := range []string{store.KindCustom, store.KindSubscribe, store.KindTemplate} {
		if n, ok := byKind[k]; ok {
			parts = append(parts, fmt.Sprintf("%s %d", k, n))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return prefix + strings.Join(parts, ", ")
}

func sourceName(path string) string {
	if path == "-" {
		return "stdin"
	}
	return path
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// oneLine keeps a table row on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// writeOutput runs write against stdout, or against a file that replaces
// path only once it is complete, so an interrupted export never leaves half
// a file where a whole one was expected. The file is private (0600): it
// holds recipients' personal data.
func (a *app) writeOutput(path string, write func(io.Writer) error) error {
	if path == "" || path == "-" {
		bw := bufio.NewWriter(a.streams.Out)
		if err := write(bw); err != nil {
			bw.Flush()
			return err
		}
		return bw.Flush()
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(f.Name()) // after a successful rename there is nothing to remove
	bw := bufio.NewWriter(f)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// oneName returns the single positional argument of a command that takes a
// batch name.
func oneName(c *cli.Context, args []string) (string, error) {
	switch {
	case len(args) == 0:
		return "", usageErrorf("%s: missing batch name; usage: %s (see 'megasend batches')", c.Command.Name, strings.SplitN(c.Command.UsageText, "\n", 2)[0])
	case len(args) > 1:
		return "", usageErrorf("%s: unexpected argument %q", c.Command.Name, args[1])
	}
	return args[0], nil
}

// parseInterleaved returns a command's positional arguments and parses the
// flags given after them into *o. Go's flag package, under urfave/cli v2,
// stops at the first positional argument, so "report NAME --format json"
// would leave --format in the arguments. Every flag of the command must
// write to a field of *o through its Destination; values given before the
// positionals are kept.
func parseInterleaved[T any](c *cli.Context, o *T) ([]string, error) {
	late := flag.NewFlagSet(c.Command.Name, flag.ContinueOnError)
	late.SetOutput(io.Discard)
	saved := *o
	for _, f := range c.Command.Flags {
		if err := f.Apply(late); err != nil {
			return nil, err
		}
	}
	*o = saved // Apply wrote each flag's default into its destination
	var pos []string
	for rest := c.Args().Slice(); len(rest) > 0; {
		switch {
		case rest[0] == "--":
			pos, rest = append(pos, rest[1:]...), nil
		case len(rest[0]) > 1 && rest[0][0] == '-':
			if err := late.Parse(rest); err != nil {
				// The same words as a flag before the arguments gets:
				// "unknown flag --fromat (did you mean --format?)".
				return nil, usageError(explainUsage(c, err))
			}
			rest = late.Args()
		default:
			pos, rest = append(pos, rest[0]), rest[1:]
		}
	}
	return pos, nil
}

// skippedText says why recipients were skipped: "duplicate openids", as
// it always has when that is the only reason, or each reason with its
// count ("40 cancelled, 2 duplicate openids").
func skippedText(reasons map[string]int64) string {
	var parts []string
	for _, r := range slices.Sorted(maps.Keys(reasons)) {
		n := reasons[r]
		switch r {
		case store.SkipDuplicate:
			parts = append(parts, fmt.Sprintf("%d duplicate %s", n, plural(int(n), "openid")))
		case "":
			parts = append(parts, fmt.Sprintf("%d for no recorded reason", n))
		default:
			parts = append(parts, fmt.Sprintf("%d %s", n, r))
		}
	}
	if _, dup := reasons[store.SkipDuplicate]; len(parts) == 0 || dup && len(parts) == 1 {
		return "duplicate openids"
	}
	return strings.Join(parts, ", ")
}
