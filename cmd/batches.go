package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/megasend/megasend/store"
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

// batchListJSON is one element of batches --json.
type batchListJSON struct {
	batchJSON
	Counts countsJSON `json:"counts"`
}

// runBatches lists the batches of the database.
func (a *app) runBatches(ctx context.Context, o batchesOptions) error {
	db, err := a.openStoreToRead(ctx)
	path, missing := noStore(err)
	if err != nil && !missing {
		return err
	}
	var batches []store.Batch
	var counts map[int64]store.Counts
	last := map[int64]time.Time{}
	if !missing {
		defer db.Close()
		path = db.Path()
		if batches, err = db.Batches(ctx); err != nil {
			return err
		}
		if counts, err = db.CountsByBatch(ctx); err != nil {
			return err
		}
		for _, b := range batches {
			last[b.ID] = b.UpdatedAt
			// A killed run may have sent for seconds after the last write
			// to its batch's row; its ledger knows. Only such batches are
			// read whole: the others' rows say nothing newer.
			if a.abandoned(db, b) {
				audit, err := db.Audit(ctx, b.ID)
				if err != nil {
					return err
				}
				last[b.ID] = lastActivity(b, audit)
			}
		}
	}
	if o.json {
		list := make([]batchListJSON, 0, len(batches))
		for _, b := range batches {
			list = append(list, batchListJSON{batchJSON: newBatchJSON(b, a.abandoned(db, b), last[b.ID]), Counts: newCountsJSON(counts[b.ID])})
		}
		return a.writeOutput("", func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			return enc.Encode(list)
		})
	}
	if len(batches) == 0 {
		fmt.Fprintf(a.streams.Err, "no batches in %s yet; start one with 'megasend campaign'\n", path)
		return nil
	}
	return a.writeOutput("", func(w io.Writer) error {
		var tb table
		tb.add("NAME", "STATUS", "SENT", "FAILED", "UNKNOWN", "PENDING", "SKIPPED", "CREATED", "LAST ACTIVITY")
		for _, b := range batches {
			c := counts[b.ID]
			status := b.Status
			if a.abandoned(db, b) {
				status += " (process gone)"
			}
			tb.add(b.Name, status, fmt.Sprint(c.Sent), fmt.Sprint(c.Failed), fmt.Sprint(c.Unknown),
				fmt.Sprint(c.Pending+c.Inflight), fmt.Sprint(c.Skipped), fmtTime(b.CreatedAt), fmtTime(last[b.ID]))
		}
		return tb.write(w, "")
	})
}
