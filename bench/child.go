package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// childArg makes the bench binary run one task for its parent instead of
// the suite. Heavy work (the ceiling client's rendered bodies, SQLite) runs
// in children, so the bench process itself stays small: Linux charges a
// child's peak RSS with its parent's at exec (see peakRSS).
const childArg = "__child"

// child runs the bench binary as a child with task and args, bounded by
// limit, and returns its stdout and CPU time.
func (b *bench) child(ctx context.Context, limit time.Duration, task string, args ...string) ([]byte, time.Duration, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, self, append([]string{childArg, task}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, 0, fmt.Errorf("%s: %w\n%s", task, err, tail(stderr.Bytes()))
	}
	cpu, _ := usage(cmd.ProcessState)
	return stdout.Bytes(), cpu, nil
}

// runChild is the child's main.
func runChild(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "bench child: no task")
		return 2
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	var err error
	switch args[0] {
	case "ceiling":
		base := fs.String("url", "", "sandbox URL")
		n := fs.Int("n", 0, "messages")
		conc := fs.Int("conc", 0, "concurrency")
		tmpl := fs.String("template", "", "template path")
		if err = fs.Parse(args[1:]); err == nil {
			var took time.Duration
			if took, err = ceilingClient(ctx, *base, *n, *conc, *tmpl); err == nil {
				err = json.NewEncoder(os.Stdout).Encode(struct{ Seconds float64 }{took.Seconds()})
			}
		}
	case "mark-sent":
		db := fs.String("db", "", "database")
		batch := fs.String("batch", "", "batch name")
		sent := fs.Int("sent", 0, "recipients to mark sent")
		if err = fs.Parse(args[1:]); err == nil {
			err = markSent(ctx, *db, *batch, *sent)
		}
	default:
		err = fmt.Errorf("unknown task %q", args[0])
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench child %s: %v\n", strings.Join(args, " "), err)
		return 1
	}
	return 0
}
