// Command bench measures megasend against the physical ceiling of the
// machine it runs on, in one run, on loopback:
//
//	go run ./bench                        # everything, 6 to 10 minutes on 2 cores
//	go run ./bench -quick                 # small sizes: a smoke run in under 30 s
//	go run ./bench -only ceiling,e2e      # some scenarios: ceiling, e2e, latency, seed, scale, rate, storm, serve-upload
//	go run ./bench -rounds 5              # more interleaved rounds of the noisiest figures (3 by default)
//
// It builds megasend with go build into a temporary directory, starts
// `megasend sandbox` processes on 127.0.0.1:0, writes recipient files, runs
// the real binary, and prints one Markdown table: each figure, its target
// and whether the target is met. For the megasend process it measures wall
// time, CPU time (user + system) and peak resident memory from the child's
// rusage; the sandbox's own memory and CPU are not counted. BENCHMARKS.md
// records the latest figures.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"
)

// scenarios in the order they run and print.
var scenarios = []string{"ceiling", "e2e", "latency", "seed", "scale", "rate", "storm", "serve-upload"}

// sizes are the workloads; full ones are the issue's.
type sizes struct {
	conc      int // concurrency of the ceiling and e2e runs
	e2e       int // recipients of the ceiling and e2e runs
	lat200    int // recipients at 100 ms latency, concurrency 200
	lat1000   int // recipients at 100 ms latency, concurrency 1000
	seed      int // the seed's 1,500 recipients at 240 ms
	scale     int // rows of the scale scenario
	scaleSent int // of which already sent when resuming
	rate      float64
	rateFor   time.Duration
	storm     int // recipients of each storm run
	upload    int // rows of the CSV uploaded to serve and imported by the CLI
}

var (
	fullSizes = sizes{conc: 64, e2e: 100_000, lat200: 20_000, lat1000: 50_000, seed: 1500,
		scale: 1_000_000, scaleSent: 990_000, rate: 500, rateFor: 20 * time.Second, storm: 20_000,
		upload: 1_000_000}
	quickSizes = sizes{conc: 64, e2e: 5_000, lat200: 2_000, lat1000: 5_000, seed: 150,
		scale: 20_000, scaleSent: 19_800, rate: 500, rateFor: 2 * time.Second, storm: 2_000,
		upload: 100_000}
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if len(os.Args) > 1 && os.Args[1] == childArg {
		os.Exit(runChild(ctx, os.Args[2:]))
	}
	os.Exit(run(ctx, os.Args[1:]))
}

func run(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	only := fs.String("only", "", "comma-separated scenarios to run: "+strings.Join(scenarios, ","))
	quick := fs.Bool("quick", false, "small sizes: a smoke run, targets not comparable")
	keep := fs.Bool("keep", false, "keep the temporary directory (binary, databases, recipient files)")
	rounds := fs.Int("rounds", 3, "interleaved rounds of the ceiling and e2e runs, of the million-row import, of the storm's pair and of serve-upload's pair; the median is judged (1 with -quick)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	selected := scenarios
	if *only != "" {
		selected = strings.Split(*only, ",")
		for _, s := range selected {
			if !slices.Contains(scenarios, s) {
				fmt.Fprintf(os.Stderr, "bench: unknown scenario %q; want some of %s\n", s, strings.Join(scenarios, ","))
				return 2
			}
		}
	}
	sz := fullSizes
	if *quick {
		sz = quickSizes
	}

	b, err := setup(ctx, sz, *quick)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		return 1
	}
	b.rounds = max(*rounds, 1)
	if *quick && !isSet(fs, "rounds") {
		b.rounds = 1
	}
	if *keep {
		fmt.Fprintf(os.Stderr, "bench: keeping %s\n", b.dir)
	} else {
		defer os.RemoveAll(b.dir)
	}

	// The ceiling and e2e runs alternate (see zeroLatency): one step.
	zero := func(ctx context.Context) error {
		return b.zeroLatency(ctx, slices.Contains(selected, "ceiling"), slices.Contains(selected, "e2e"))
	}
	steps := map[string]func(context.Context) error{
		"ceiling": zero, "e2e": zero, "latency": b.latency,
		"seed": b.seedCase, "scale": b.scale, "rate": b.rateAccuracy, "storm": b.storm,
		"serve-upload": b.serveUpload,
	}
	failed := false
	for _, s := range scenarios {
		if !slices.Contains(selected, s) || s == "e2e" && slices.Contains(selected, "ceiling") {
			continue
		}
		if err := steps[s](ctx); err != nil {
			fmt.Fprintf(os.Stderr, "bench: %s: %v\n", s, err)
			b.add(row{scenario: s, measured: "error: " + firstLine(err.Error()), verdict: "not measured"})
			failed = true
		}
		if ctx.Err() != nil {
			break
		}
	}
	b.print(os.Stdout, append([]string{"go run ./bench"}, args...))
	if failed {
		return 1
	}
	return 0
}

// isSet reports whether the flag name was given on the command line.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
