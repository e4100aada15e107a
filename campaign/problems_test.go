package campaign

import (
	"testing"

	"github.com/megasend/megasend/template"
)

func TestProblem_String(t *testing.T) {
	tests := []struct {
		name string
		p    Problem
		want string
	}{
		{"Error", Problem{Severity: template.Error, File: "users.csv", Line: 3, Field: "product", Msg: "empty value"},
			"users.csv:3: product: empty value"},
		{"Warning", Problem{Severity: template.Warning, File: "t.json", Line: 6, Field: "data.first", Msg: "dropped"},
			"t.json:6: warning: data.first: dropped"},
		{"WholeLine", Problem{Severity: template.Error, File: "users.csv", Line: 4, Msg: "2 fields, header has 3"},
			"users.csv:4: 2 fields, header has 3"},
		{"NoLine", Problem{Severity: template.Error, File: "order_paid", Field: "touser", Msg: "missing"},
			"order_paid: touser: missing"},
		{"NoFile", Problem{Severity: template.Error, Msg: "batch b line 3: bad"}, "batch b line 3: bad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestProblems_SummaryShown: a problem that sums up many rows is kept even
// when the list is full, first in line order, and the rest are counted.
func TestProblems_SummaryShown(t *testing.T) {
	p := NewProblems(template.Error)
	for i := range MaxShown + 5 {
		p.AddAt("u.jsonl", i+10, "openid", "empty")
	}
	p.addSummary(Problem{File: "u.jsonl", Line: 2, Field: "coupon", Msg: "missing on 30 lines"})
	s := p.Sorted()
	if got := s[0].String(); got != "u.jsonl:2: coupon: missing on 30 lines" {
		t.Errorf("first %q, want the summary", got)
	}
	if len(s) != MaxShown || p.Rest() != 6 || p.Count != MaxShown+6 {
		t.Errorf("%d kept, %d rest, %d counted; want %d, 6, %d", len(s), p.Rest(), p.Count, MaxShown, MaxShown+6)
	}
}

// TestProblems_Emit: with Emit set every problem goes to it as found, none
// is kept, and none is left to count as "more".
func TestProblems_Emit(t *testing.T) {
	var got []string
	p := NewProblems(template.Warning)
	p.Emit = func(q Problem) { got = append(got, q.String()) }
	for i := range MaxShown + 2 {
		p.AddAt("u.csv", i+2, "name", "long")
	}
	if len(got) != MaxShown+2 || len(p.Shown) != 0 || p.Rest() != 0 || got[0] != "u.csv:2: warning: name: long" {
		t.Errorf("emitted %d (first %q), kept %d, rest %d", len(got), got[0], len(p.Shown), p.Rest())
	}
}
