package cmd

import (
	"io"
	"os"

	"golang.org/x/term"
)

// Streams is everything megasend takes from its process: the standard
// streams and the environment. Tests build one by hand and run commands
// in-process; main uses OSStreams.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
	// Getenv reads the environment; nil reads nothing.
	Getenv func(string) string
	// ErrIsTerminal says stderr is a terminal, which turns on the progress
	// bar. Without a terminal megasend writes plain log lines instead.
	ErrIsTerminal bool
	// InIsTerminal says a person can answer a question on stdin.
	InIsTerminal bool
	// Hostname and PID identify this process in batch locks.
	Hostname string
	PID      int
}

// OSStreams returns the streams of the running process.
func OSStreams() Streams {
	host, _ := os.Hostname()
	return Streams{
		In:            os.Stdin,
		Out:           os.Stdout,
		Err:           os.Stderr,
		Getenv:        os.Getenv,
		ErrIsTerminal: term.IsTerminal(int(os.Stderr.Fd())),
		InIsTerminal:  term.IsTerminal(int(os.Stdin.Fd())),
		Hostname:      host,
		PID:           os.Getpid(),
	}
}

func (s Streams) getenv(key string) string {
	if s.Getenv == nil {
		return ""
	}
	return s.Getenv(key)
}
