package cmd

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// A record reads as a sentence: the time, a marker only where the level
// asks for attention, the message, then key=value with groups flattened.
// Values that would run into the next key or move the cursor are quoted.
func TestTermHandler(t *testing.T) {
	at := time.Date(2026, 11, 22, 14, 3, 5, 0, time.Local)
	for _, tt := range []struct {
		name  string
		level slog.Level // the handler's
		log   func(*slog.Logger)
		want  string
	}{
		{name: "Info", log: func(l *slog.Logger) {
			l.Info("importing recipients", "batch", "x", "users", "users.csv")
		}, want: "14:03:05 importing recipients batch=x users=users.csv\n"},
		{name: "Warn", log: func(l *slog.Logger) {
			l.Warn("WeChat asked to slow down; pacing the batch", "msgs_per_s", "12.5")
		}, want: "14:03:05 warning: WeChat asked to slow down; pacing the batch msgs_per_s=12.5\n"},
		{name: "Error", log: func(l *slog.Logger) {
			l.Error("stopping the batch", "reason", "batch-fatal error", "err", errors.New("errcode 40037"))
		}, want: "14:03:05 error: stopping the batch reason=\"batch-fatal error\" err=\"errcode 40037\"\n"},
		{name: "Debug", level: slog.LevelDebug, log: func(l *slog.Logger) {
			l.Debug("retrying", "line", 151)
		}, want: "14:03:05 debug: retrying line=151\n"},
		{name: "DebugHidden", log: func(l *slog.Logger) { l.Debug("retrying", "line", 151) }},
		{name: "QuietKeepsErrors", level: slog.LevelError, log: func(l *slog.Logger) {
			l.Warn("hidden")
			l.Error("shown")
		}, want: "14:03:05 error: shown\n"},
		{name: "Kinds", log: func(l *slog.Logger) {
			l.Info("kinds", "n", 3, "f", 1.5, "ok", true, "took", 1500*time.Millisecond,
				"at", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "empty", "")
		}, want: "14:03:05 kinds n=3 f=1.5 ok=true took=1.5s at=2026-01-02T03:04:05Z empty=\"\"\n"},
		{name: "Chinese", log: func(l *slog.Logger) {
			l.Info("imported", "users", "名单.csv", "name", "张 伟")
		}, want: "14:03:05 imported users=名单.csv name=\"张 伟\"\n"},
		{name: "ControlCharacters", log: func(l *slog.Logger) {
			l.Info("bad\rmessage", "errmsg", "a\x1b[2Jb\nc", "k=v", "x=y")
		}, want: "14:03:05 \"bad\\rmessage\" errmsg=\"a\\x1b[2Jb\\nc\" \"k=v\"=\"x=y\"\n"},
		{name: "Groups", log: func(l *slog.Logger) {
			l.With("batch", "b").WithGroup("send").Info("sent", "line", 2, slog.Group("wechat", "errcode", 0))
		}, want: "14:03:05 sent batch=b send.line=2 send.wechat.errcode=0\n"},
		{name: "EmptyAttrAndInlineGroup", log: func(l *slog.Logger) {
			l.Info("m", slog.Attr{}, slog.Group("", "a", 1))
		}, want: "14:03:05 m a=1\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			l := slog.New(fixedTime{newTermHandler(&b, &slog.HandlerOptions{Level: tt.level}), at})
			tt.log(l)
			if got := b.String(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// Each record is one Write: a screen keeps it whole beside the bar.
func TestTermHandler_OneWritePerRecord(t *testing.T) {
	var w countingWriter
	l := slog.New(newTermHandler(&w, nil))
	l.Info("one", "a", 1, "b", strings.Repeat("x", 500))
	l.Warn("two")
	if w.writes != 2 {
		t.Fatalf("%d writes for 2 records", w.writes)
	}
}

type countingWriter struct{ writes int }

func (w *countingWriter) Write(p []byte) (int, error) { w.writes++; return len(p), nil }

// fixedTime gives every record the same time, so the lines can be compared.
type fixedTime struct {
	slog.Handler
	at time.Time
}

func (h fixedTime) Handle(ctx context.Context, r slog.Record) error {
	r.Time = h.at
	return h.Handler.Handle(ctx, r)
}

func (h fixedTime) WithAttrs(as []slog.Attr) slog.Handler {
	return fixedTime{h.Handler.WithAttrs(as), h.at}
}

func (h fixedTime) WithGroup(name string) slog.Handler {
	return fixedTime{h.Handler.WithGroup(name), h.at}
}
