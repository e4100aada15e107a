// Command megasend sends WeChat template messages in bulk, with a SQLite
// ledger that makes every run resumable. See README.md.
package main

import (
	"context"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/megasend/megasend/cmd"
	"github.com/megasend/megasend/server"
)

func main() { os.Exit(run()) }

// run is main without the exit, so the end-to-end tests can run the binary
// in-process (main_test.go).
func run() int {
	// megasend's live heap is small and flat (a page of recipients, reused
	// buffers) and what it allocates per message dies young, so collecting
	// at three times the live heap instead of twice cuts the collector's
	// share of a send by about a tenth for a few MiB of resident memory
	// (BENCHMARKS.md). A GOGC set by the user wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	// SIGINT and SIGTERM go to cmd.Main, which owns what they mean: the first
	// stops gracefully, the second at once.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	return cmd.Main(context.Background(), os.Args, cmd.OSStreams(), sigs, httpFace)
}

// httpFace is megasend serve's handler: the server package over what cmd
// wired. Here, so that neither face imports the other.
func httpFace(c cmd.ServeConfig) (http.Handler, error) {
	return server.New(server.Config{
		Service: c.Service, Keys: c.Keys, DB: c.DB, MaxBody: c.MaxBody, Log: c.Log, SpoolDir: c.SpoolDir,
		Accounts: map[string]server.Account{c.Account: {Callback: c.Callback, OpenIDs: c.OpenIDs, TimeZone: c.TimeZone,
			Followers: c.Followers}},
		Metrics: c.Metrics, MetricsPublic: c.MetricsPublic,
	})
}
