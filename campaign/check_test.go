package campaign

import (
	"strings"
	"testing"

	"github.com/megasend/megasend/recipient"
	"github.com/megasend/megasend/template"
)

// checkInput runs the import's checks over input and returns the errors
// found, one line each.
func checkInput(t *testing.T, body, name, input string, in Input) []string {
	t.Helper()
	tmpl, err := template.Parse("coupon", "", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	c := newChecker(tmpl, name, 0)
	if _, err := readRowsFrom(strings.NewReader(input), name, in, c, func(recipient.Row) error { return nil }); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, p := range c.errs.Sorted() {
		lines = append(lines, p.String())
	}
	return lines
}

const couponBody = `{"touser":"${openid}","template_id":"T","data":{"keyword1":{"value":"${name}"},"keyword2":{"value":"${coupon}"},"keyword3":{"value":"${note:-无}"}}}`

// TestChecker_MissingColumn: a column the template needs and the header
// lacks is one problem, on the header's line, naming the columns the
// template needs, however many rows follow (issue 15.7).
func TestChecker_MissingColumn(t *testing.T) {
	var rows strings.Builder
	rows.WriteString("openid,name,Coupon\n")
	for i := range 20 {
		rows.WriteString("oCol" + strings.Repeat("0", 22) + string(rune('a'+i)) + "X,张伟,C1\n")
	}
	got := checkInput(t, couponBody, "users.csv", rows.String(), Input{})
	want := []string{`users.csv:1: coupon: missing column; template coupon needs the columns coupon, name (the file has "Coupon": column names are case-sensitive)`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestChecker_MissingKey: JSONL has no header; a key missing on many lines
// is one problem naming them, and one missing on a single line reads as
// before.
func TestChecker_MissingKey(t *testing.T) {
	line := func(i int, keys string) string {
		return `{"openid":"oKey` + strings.Repeat("0", 22) + string(rune('a'+i)) + `X"` + keys + "}\n"
	}
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		{
			name:  "OneLine",
			input: line(0, `,"name":"a","coupon":"c"`) + line(1, `,"name":"b"`),
			want:  []string{"u.jsonl:2: coupon: missing variable needed by template coupon"},
		},
		{
			name: "SomeLines",
			input: func() string {
				var b strings.Builder
				b.WriteString(line(0, `,"name":"a","coupon":"c"`))
				for i := 1; i <= 12; i++ {
					b.WriteString(line(i, `,"name":"b"`))
				}
				b.WriteString(line(13, `,"coupon":"c"`))
				return b.String()
			}(),
			want: []string{
				"u.jsonl:2: coupon: missing on 12 lines (2, 3, 4, 5, 6, 7, 8, 9, 10, 11, …), and template coupon needs it",
				"u.jsonl:14: name: missing variable needed by template coupon",
			},
		},
		{
			name:  "AllLines",
			input: line(0, `,"name":"a"`) + "\n" + line(1, `,"name":"b"`),
			want:  []string{"u.jsonl:1: coupon: missing on all 2 lines, and template coupon needs it"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkInput(t, couponBody, "u.jsonl", tt.input, Input{})
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestChecker_OpenIDCheck: --openid-check reaches the reader (issue 20.5).
func TestChecker_OpenIDCheck(t *testing.T) {
	input := "openid,name,coupon\nox,a,c\n"
	got := checkInput(t, couponBody, "u.csv", input, Input{})
	if len(got) != 1 || !strings.HasPrefix(got[0], "u.csv:2: openid: 2 characters, not 28") {
		t.Errorf("strict: %q", got)
	}
	if got := checkInput(t, couponBody, "u.csv", input, Input{OpenIDs: recipient.OpenIDLoose}); got != nil {
		t.Errorf("loose: %q", got)
	}
}
