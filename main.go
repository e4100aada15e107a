// Command megasend sends WeChat template messages in bulk, with a SQLite
// ledger that makes every run resumable. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/megasend/megasend/cmd"
)

func main() { os.Exit(run()) }

// run is main without the exit, so the end-to-end tests can run the binary
// in-process (main_test.go).
func run() int {
	// SIGINT and SIGTERM go to cmd.Main, which owns what they mean: the first
	// stops gracefully, the second at once.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	return cmd.Main(context.Background(), os.Args, cmd.OSStreams(), sigs)
}
