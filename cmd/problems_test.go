package cmd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/megasend/megasend/template"
)

func TestProblem_String(t *testing.T) {
	tests := []struct {
		name string
		p    problem
		want string
	}{
		{"Error", problem{severity: template.Error, file: "users.csv", line: 3, field: "product", msg: "empty value"},
			"users.csv:3: product: empty value"},
		{"Warning", problem{severity: template.Warning, file: "t.json", line: 6, field: "data.first", msg: "dropped"},
			"t.json:6: warning: data.first: dropped"},
		{"WholeLine", problem{severity: template.Error, file: "users.csv", line: 4, msg: "2 fields, header has 3"},
			"users.csv:4: 2 fields, header has 3"},
		{"NoLine", problem{severity: template.Error, file: "order_paid", field: "touser", msg: "missing"},
			"order_paid: touser: missing"},
		{"NoFile", problem{severity: template.Error, msg: "batch b line 3: bad"}, "batch b line 3: bad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestProblems_PrintJSON: with --log-format json a problem is a record with
// its place as fields, the line a number (issue 15, should-fix).
func TestProblems_PrintJSON(t *testing.T) {
	var buf bytes.Buffer
	ll := &logLines{log: slog.New(slog.NewJSONHandler(&buf, nil))}
	p := problems{kind: "error"}
	for i := range maxShown + 3 {
		p.addAt("users.csv", i+2, "product", "empty value")
	}
	p.print(ll)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != maxShown+1 {
		t.Fatalf("%d records, want %d:\n%s", len(lines), maxShown+1, buf.String())
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
	if err := json.Unmarshal([]byte(lines[maxShown]), &more); err != nil || more.More != float64(3) || more.Msg != "... and 3 more errors" {
		t.Errorf("last record %s (%v)", lines[maxShown], err)
	}
}

// TestProblems_SummaryShown: a problem that sums up many rows is shown even
// when the list is full, in line order.
func TestProblems_SummaryShown(t *testing.T) {
	p := problems{kind: "error"}
	for i := range maxShown + 5 {
		p.addAt("u.jsonl", i+10, "openid", "empty")
	}
	p.addSummary(problem{file: "u.jsonl", line: 2, field: "coupon", msg: "missing on 30 lines"})
	var buf bytes.Buffer
	p.print(&buf)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if lines[0] != "u.jsonl:2: coupon: missing on 30 lines" {
		t.Errorf("first line %q, want the summary", lines[0])
	}
	if want := fmt.Sprintf("... and %d more errors", 6); lines[len(lines)-1] != want || len(lines) != maxShown+1 {
		t.Errorf("%d lines, last %q; want %d and %q", len(lines), lines[len(lines)-1], maxShown+1, want)
	}
}
