package cmd

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/megasend/megasend/recipient"
	"github.com/megasend/megasend/template"
)

// checkInput runs the import's checks over input and returns the errors
// printed, one per line.
func checkInput(t *testing.T, body, name, input string, in inputOptions) []string {
	t.Helper()
	tmpl, err := template.Parse("coupon", "", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	c := newChecker(tmpl, name, 0)
	if _, err := readRowsFrom(strings.NewReader(input), name, in, c, func(recipient.Row) error { return nil }); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	c.errs.print(&buf)
	if buf.Len() == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
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
	got := checkInput(t, couponBody, "users.csv", rows.String(), inputOptions{})
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
			got := checkInput(t, couponBody, "u.jsonl", tt.input, inputOptions{})
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestChecker_OpenIDCheck: --openid-check reaches the reader (issue 20.5).
func TestChecker_OpenIDCheck(t *testing.T) {
	input := "openid,name,coupon\nox,a,c\n"
	got := checkInput(t, couponBody, "u.csv", input, inputOptions{})
	if len(got) != 1 || !strings.HasPrefix(got[0], "u.csv:2: openid: 2 characters, not 28") {
		t.Errorf("strict: %q", got)
	}
	if got := checkInput(t, couponBody, "u.csv", input, inputOptions{openids: recipient.OpenIDLoose}); got != nil {
		t.Errorf("loose: %q", got)
	}
}

// lintApp is an app whose stderr and log go to one buffer.
func lintApp() (*app, *bytes.Buffer) {
	var buf bytes.Buffer
	return &app{streams: Streams{Err: &buf}, log: slog.New(slog.NewTextHandler(&buf, nil))}, &buf
}

// TestLintTemplate: the campaign's view of a template's own problems. Each
// warning keeps its own words (issue 20.1), the template is named as given
// (issue 15.8), and errors are lint's lines.
func TestLintTemplate(t *testing.T) {
	dir := t.TempDir()
	legacy, err := os.ReadFile("../testdata/templates/order_paid_legacy.json")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "legacy.json")
	tmpl, err := template.ParseFile(path, legacy)
	if err != nil {
		t.Fatal(err)
	}
	a, buf := lintApp()
	if err := lintTemplate(tmpl, a); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"template " + path + ": data.first: WeChat has dropped first since 2023-05-04; it is not shown",
		"template " + path + ": data.remark: WeChat has dropped remark since 2023-05-04; it is not shown",
		"template " + path + ": data.first.color, data.keyword1.color, data.keyword2.color, data.keyword3.color, data.remark.color: WeChat has ignored color since 2023-05-04",
		"template " + path + ": 7 warnings; 'megasend template lint " + path + "' shows each with its line",
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, buf.String())
		}
	}
	if strings.Contains(buf.String(), "drops or ignores") || strings.Contains(buf.String(), "template lint legacy") {
		t.Errorf("summed-up warnings or a key that does not exist:\n%s", buf.String())
	}

	// A stored template is named by its key.
	stored, err := template.Parse("order_paid", "", legacy)
	if err != nil {
		t.Fatal(err)
	}
	a, buf = lintApp()
	if err := lintTemplate(stored, a); err != nil || !strings.Contains(buf.String(), "'megasend template lint order_paid'") {
		t.Errorf("stored: %v\n%s", err, buf.String())
	}

	// The fixed touser: refused, in lint's line format.
	fixed := filepath.Join(dir, "fixed.json")
	tmpl, err = template.ParseFile(fixed, []byte(`{"touser":"oFIXED0000000000000000000000","template_id":"T1","data":{"keyword1":{"value":"${name}"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	a, buf = lintApp()
	err = lintTemplate(tmpl, a)
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "template "+fixed+": 1 error; nothing was sent") {
		t.Errorf("lintTemplate = %v (exit %d), want a usage error", err, exitCode(err))
	}
	if want := fixed + `:1: touser: fixed openid "oFIXED0000000000000000000000": every recipient's message would go to that one user; use "${openid}"` + "\n"; buf.String() != want {
		t.Errorf("stderr %q\nwant   %q", buf.String(), want)
	}
}
