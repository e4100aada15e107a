package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/megasend/megasend/campaign"
)

// batchesOptions are the parsed flags of megasend batches.
type batchesOptions struct {
	json bool
}

func (a *app) batchesCommand() *cli.Command {
	var o batchesOptions
	return &cli.Command{
		Name:  "batches",
		Usage: "list every batch, newest first, with its status and counts; remove batches",
		UsageText: `megasend batches [--json]
megasend batches rm NAME...
megasend batches prune --older-than AGE [--state STATUS,...] [--dry-run]`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: flgJSON, Usage: "print a JSON array", Destination: &o.json},
		},
		Subcommands: []*cli.Command{a.batchesRmCommand(), a.batchesPruneCommand()},
		Action: func(c *cli.Context) error {
			args, err := parseInterleaved(c, &o)
			if err != nil {
				return err
			}
			if len(args) > 0 {
				return usageErrorf("batches: unexpected argument %q", args[0])
			}
			return a.runBatches(c.Context, o)
		},
	}
}

// runBatches lists the batches of the database.
func (a *app) runBatches(ctx context.Context, o batchesOptions) error {
	db, svc, err := a.openService(ctx)
	path, missing := noStore(err)
	if err != nil && !missing {
		return err
	}
	list := []campaign.ListItem{}
	if !missing {
		defer db.Close()
		path = db.Path()
		if list, err = svc.List(ctx); err != nil {
			return err
		}
	}
	if o.json {
		return a.writeOutput("", func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			return enc.Encode(list)
		})
	}
	if len(list) == 0 {
		fmt.Fprintf(a.streams.Err, "no batches in %s yet; start one with 'megasend campaign'\n", path)
		return nil
	}
	return a.writeOutput("", func(w io.Writer) error {
		var tb table
		tb.add("NAME", "STATUS", "SENT", "FAILED", "UNKNOWN", "PENDING", "SKIPPED", "CREATED", "LAST ACTIVITY")
		for _, b := range list {
			c := b.Counts
			status := b.Status
			if b.Abandoned {
				status += " (process gone)"
			}
			tb.add(b.Name, status, fmt.Sprint(c.Sent), fmt.Sprint(c.Failed), fmt.Sprint(c.Unknown),
				fmt.Sprint(c.Pending+c.Inflight), fmt.Sprint(c.Skipped), fmtTime(b.CreatedAt), fmtTime(b.LastActivity))
		}
		return tb.write(w, "")
	})
}
