package cmd

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// termHandler is the slog.Handler for a person reading stderr at a
// terminal: one line per record that reads as a sentence,
//
//	14:03:05 sending batch=order_paid-20261122 recipients=600 rate=200/s
//	14:03:07 warning: WeChat asked to slow down; pacing the batch msgs_per_s=100.0
//
// the local time (a person knows the date), the level only where it asks
// for attention, in the words megasend's other lines on stderr use
// ("warning: ", "error: "), and no level= or msg= keys. Scripts and cron
// get slog's text or JSON handler instead (before, in app.go), whose lines
// are for parsers. Each record is one Write, so a screen can keep it whole
// beside the progress bar.
type termHandler struct {
	mu     *sync.Mutex // shared by the handlers WithAttrs and WithGroup derive
	w      io.Writer
	level  slog.Leveler
	attrs  []byte // the WithAttrs attributes, formatted
	prefix string // the WithGroup groups, "a.b."
}

// newTermHandler returns a termHandler writing to w the records at or above
// opts.Level (Info when opts or its Level is nil).
func newTermHandler(w io.Writer, opts *slog.HandlerOptions) *termHandler {
	var level slog.Leveler = slog.LevelInfo
	if opts != nil && opts.Level != nil {
		level = opts.Level
	}
	return &termHandler{mu: new(sync.Mutex), w: w, level: level}
}

func (h *termHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

func (h *termHandler) Handle(_ context.Context, r slog.Record) error {
	buf := make([]byte, 0, 160)
	if !r.Time.IsZero() {
		buf = r.Time.AppendFormat(buf, "15:04:05 ")
	}
	switch {
	case r.Level >= slog.LevelError:
		buf = append(buf, "error: "...)
	case r.Level >= slog.LevelWarn:
		buf = append(buf, "warning: "...)
	case r.Level < slog.LevelInfo:
		buf = append(buf, "debug: "...)
	}
	if printable(r.Message) {
		buf = append(buf, r.Message...)
	} else {
		buf = strconv.AppendQuote(buf, r.Message)
	}
	buf = append(buf, h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		buf = appendTermAttr(buf, h.prefix, a)
		return true
	})
	buf = append(buf, '\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := h.w.Write(buf)
	return err
}

func (h *termHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	h2 := *h
	h2.attrs = append([]byte(nil), h.attrs...)
	for _, a := range attrs {
		h2.attrs = appendTermAttr(h2.attrs, h.prefix, a)
	}
	return &h2
}

func (h *termHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.prefix = h.prefix + name + "."
	return &h2
}

// appendTermAttr appends " key=value", groups flattened to "group.key" as
// slog's text handler does.
func appendTermAttr(buf []byte, prefix string, a slog.Attr) []byte {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return buf
	}
	if a.Value.Kind() == slog.KindGroup {
		if a.Key != "" {
			prefix += a.Key + "."
		}
		for _, g := range a.Value.Group() {
			buf = appendTermAttr(buf, prefix, g)
		}
		return buf
	}
	buf = append(buf, ' ')
	buf = appendTermText(buf, prefix+a.Key)
	buf = append(buf, '=')
	var v string
	switch a.Value.Kind() {
	case slog.KindTime:
		v = a.Value.Time().Format(time.RFC3339)
	default:
		v = a.Value.String() // an error's text, a duration's "1.5s"
	}
	return appendTermText(buf, v)
}

// appendTermText appends s as it is, or quoted where it is empty or holds
// a space, a quote, an '=' or a character that is not printable: a value
// must neither run into the next key nor move the cursor (an errmsg from
// the network could hold "\r" or an escape code).
func appendTermText(buf []byte, s string) []byte {
	if s == "" || strings.ContainsAny(s, " \"=") || !printable(s) {
		return strconv.AppendQuote(buf, s)
	}
	return append(buf, s...)
}

// printable reports whether s has only printable characters and spaces.
func printable(s string) bool {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
