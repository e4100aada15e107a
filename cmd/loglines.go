package cmd

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
)

// logLines turns the lines megasend writes for people on stderr (problems
// in the input, what to run next, the final error) into log records, one
// per line: with --log-format json every line on stderr is then one JSON
// object, as a log collector fed "2>&1" expects. Its logger is not subject
// to -q, which silences logs, not what a person must be told.
type logLines struct {
	log *slog.Logger
	mu  sync.Mutex
	buf []byte // a line not yet ended
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.emit(string(l.buf[:i]))
		l.buf = append(l.buf[:0], l.buf[i+1:]...)
	}
	return len(p), nil
}

// Flush logs a last line that did not end.
func (l *logLines) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.emit(string(l.buf))
		l.buf = l.buf[:0]
	}
}

// emit logs one line at the level its wording gives it.
func (l *logLines) emit(line string) {
	level := slog.LevelInfo
	switch {
	case strings.HasPrefix(line, "error: "), strings.HasPrefix(line, "megasend: "):
		level = slog.LevelError
	case strings.HasPrefix(line, "warning: "):
		level = slog.LevelWarn
	}
	l.log.Log(context.Background(), level, line)
}

// tell says what happened, for people: a line on stdout, or with
// --log-format json a record among the logs on stderr.
func (a *app) tell(format string, args ...any) {
	if a.said != nil {
		a.said.log.Info(fmt.Sprintf(format, args...))
		return
	}
	fmt.Fprintf(a.streams.Out, format+"\n", args...)
}
