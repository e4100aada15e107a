package cmd

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/megasend/megasend/campaign"
	"github.com/megasend/megasend/template"
)

// TestProblems_PrintJSON: with --log-format json a problem is a record with
// its place as fields, the line a number (issue 15, should-fix).
func TestProblems_PrintJSON(t *testing.T) {
	var buf bytes.Buffer
	ll := &logLines{log: slog.New(slog.NewJSONHandler(&buf, nil))}
	p := campaign.NewProblems(template.Error)
	for i := range campaign.MaxShown + 3 {
		p.AddAt("users.csv", i+2, "product", "empty value")
	}
	a := &app{streams: Streams{Err: ll}}
	a.printProblems(p)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != campaign.MaxShown+1 {
		t.Fatalf("%d records, want %d:\n%s", len(lines), campaign.MaxShown+1, buf.String())
	}
	var first struct {
		Level   string
		Msg     string
		File    string
		Line    any
		Field   string
		Problem string
	}
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if first.Level != "ERROR" || first.Msg != "users.csv:2: product: empty value" || first.File != "users.csv" ||
		first.Line != float64(2) || first.Field != "product" || first.Problem != "empty value" {
		t.Errorf("record %s", lines[0])
	}
	var more struct {
		Msg  string
		More any
	}
	if err := json.Unmarshal([]byte(lines[campaign.MaxShown]), &more); err != nil || more.More != float64(3) || more.Msg != "... and 3 more errors" {
		t.Errorf("last record %s (%v)", lines[campaign.MaxShown], err)
	}
}
