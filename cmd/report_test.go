package cmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/megasend/megasend/store"
)

// runCLI runs megasend in-process against the database db with an empty
// environment and returns its exit code, stdout and stderr.
func runCLI(t *testing.T, db string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	s := Streams{
		In: strings.NewReader(""), Out: &out, Err: &errOut,
		Getenv: func(string) string { return "" }, Hostname: "test-host", PID: os.Getpid(),
	}
	code := Main(context.Background(), append([]string{"megasend", "--" + flgDB, db}, args...), s, nil)
	return code, out.String(), errOut.String()
}

// sandboxBatch sends users (a file under ../testdata) to the in-process
// sandbox as batch name, and returns the database path. Every row is sent.
func sandboxBatch(t *testing.T, name, tmpl, users string) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "m.db")
	code, _, stderr := runCLI(t, db, "campaign", "--sandbox", "--template", tmpl, "--users", users, "--batch", name)
	if code != exitOK {
		t.Fatalf("campaign: exit %d: %s", code, stderr)
	}
	return db
}

// mustExec runs SQL against the database at path: tests use it to put rows
// in states a sandbox run does not produce on demand.
func mustExec(t *testing.T, path, query string, args ...any) {
	t.Helper()
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.SQL().Exec(query, args...); err != nil {
		t.Fatal(err)
	}
}

// states returns the state of every recipient of batch name by line.
func states(t *testing.T, path, name string) map[int64]string {
	t.Helper()
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	b, err := db.Batch(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]string{}
	if err := db.Recipients(context.Background(), b.ID, nil, func(r store.Recipient) error {
		out[r.Line] = r.State
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestReportOptions_ResolveFormat(t *testing.T) {
	tests := []struct {
		name string
		o    reportOptions
		want string // "" for a usage error
	}{
		{"Default", reportOptions{}, formatTable},
		{"JSON", reportOptions{format: "JSON"}, formatJSON},
		{"CSV", reportOptions{format: "csv"}, formatCSV},
		{"JSONL", reportOptions{format: "jsonl", output: "x.csv"}, formatJSONL},
		{"Bad", reportOptions{format: "xml"}, ""},
		{"FailedDefault", reportOptions{failed: true}, formatCSV},
		{"FailedFile", reportOptions{failed: true, output: "out/FAILED.JSONL"}, formatJSONL},
		{"FailedNDJSON", reportOptions{failed: true, output: "f.ndjson"}, formatJSONL},
		{"FailedFormatWins", reportOptions{failed: true, output: "f.jsonl", format: "csv"}, formatCSV},
		{"FailedTable", reportOptions{failed: true, format: "table"}, ""},
		{"FailedJSON", reportOptions{failed: true, format: "json"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.o.resolveFormat()
			if tt.want == "" {
				if exitCode(err) != exitUsage {
					t.Errorf("got %q, %v; want a usage error", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestCSVHeading(t *testing.T) {
	taken := []string{"line", "openid", "state", "var_state"}
	tests := []struct{ name, want string }{
		{"name", "name"},
		{"line", "var_line"},
		{"state", "var_var_state"},
	}
	for _, tt := range tests {
		if got := csvHeading(tt.name, taken); got != tt.want {
			t.Errorf("csvHeading(%q) = %q; want %q", tt.name, got, tt.want)
		}
	}
}

func TestParseInterleaved(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want reportOptions
		pos  []string
		bad  bool
	}{
		{"Before", []string{"--format", "json", "b"}, reportOptions{format: "json"}, []string{"b"}, false},
		{"After", []string{"b", "--failed", "-o", "f.csv"}, reportOptions{failed: true, output: "f.csv"}, []string{"b"}, false},
		{"Both", []string{"--format=csv", "b", "--failed"}, reportOptions{format: "csv", failed: true}, []string{"b"}, false},
		{"DashDash", []string{"b", "--", "--failed"}, reportOptions{}, []string{"b", "--failed"}, false},
		{"Two", []string{"b", "--failed", "c"}, reportOptions{failed: true}, []string{"b", "c"}, false},
		{"Unknown", []string{"b", "--nope"}, reportOptions{}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o reportOptions
			var got []string
			var err error
			app := &cli.App{
				Writer: &bytes.Buffer{}, ErrWriter: &bytes.Buffer{},
				Commands: []*cli.Command{{
					Name: "report",
					Flags: []cli.Flag{
						&cli.StringFlag{Name: flgFormat, Destination: &o.format},
						&cli.BoolFlag{Name: flgFailed, Destination: &o.failed},
						&cli.StringFlag{Name: flgOutput, Aliases: []string{"o"}, Destination: &o.output},
					},
					Action: func(c *cli.Context) error {
						got, err = parseInterleaved(c, &o)
						return nil
					},
				}},
			}
			if rerr := app.Run(append([]string{"megasend", "report"}, tt.args...)); rerr != nil {
				t.Fatal(rerr)
			}
			if tt.bad {
				if exitCode(err) != exitUsage {
					t.Errorf("err %v; want a usage error", err)
				}
				return
			}
			if err != nil || o != tt.want || !reflect.DeepEqual(got, tt.pos) {
				t.Errorf("got %+v %q, %v; want %+v %q", o, got, err, tt.want, tt.pos)
			}
		})
	}
}

// TestReport_FailedExportJSONL checks the export of a JSONL batch whose rows
// have different variables: the CSV has every column, rows lack none, and
// the file goes back in unchanged.
func TestReport_FailedExportJSONL(t *testing.T) {
	dir := t.TempDir()
	tmpl := filepath.Join(dir, "t.json")
	users := filepath.Join(dir, "u.jsonl")
	write := func(path, data string) {
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(tmpl, `{"touser":"${openid}","template_id":"mf_E7on5Vh9SIIdieRcvRSv7yFCR0-wFhtdfeA0XY3g","data":{"thing1":{"value":"${a}"}}}`)
	write(users, `{"openid":"ovIC7uccmSMFeuYJj2PjM7KkdBnY","a":"1","errcode":"old"}
{"openid":"optl3tY5_LvLXNtjJ-wlRnarOP8H","b":"x, \"y\"","a":"2"}
{"openid":"oS7Hk7IfD7J6CdcRLWWNXddH1B5m","a":"3"}
`)
	db := sandboxBatch(t, "j", tmpl, users)
	mustExec(t, db, `UPDATE sends SET state = 'failed', errcode = 40003, errmsg = 'invalid openid' WHERE line IN (1, 2)`)
	mustExec(t, db, `UPDATE sends SET state = 'unknown', errcode = -1, errmsg = 'may have been delivered' WHERE line = 3`)

	out := filepath.Join(dir, "failed.csv")
	if code, _, stderr := runCLI(t, db, "report", "j", "--failed", "--output", out); code != exitOK {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want := `openid,a,b,errcode,errmsg
ovIC7uccmSMFeuYJj2PjM7KkdBnY,1,,40003,invalid openid
optl3tY5_LvLXNtjJ-wlRnarOP8H,2,"x, ""y""",40003,invalid openid
oS7Hk7IfD7J6CdcRLWWNXddH1B5m,3,,-1,may have been delivered
`
	if string(got) != want {
		t.Errorf("export:\n%s\nwant:\n%s", got, want)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("export mode %v, %v; want 0600", fi.Mode(), err)
	}
	if code, _, stderr := runCLI(t, db, "campaign", "--sandbox", "--template", tmpl, "--users", out, "--batch", "again"); code != exitOK {
		t.Errorf("campaign with the export: exit %d: %s", code, stderr)
	}
}

func TestReport_Errors(t *testing.T) {
	db := sandboxBatch(t, "b", "../testdata/templates/order_paid.json", "../testdata/users.csv")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"NoBatch", []string{"report", "nope"}, exitUsage, `no batch "nope"; see 'megasend batches'`},
		{"NoName", []string{"report"}, exitUsage, "missing batch name"},
		{"BadFormat", []string{"report", "b", "--format", "yaml"}, exitUsage, `got "yaml"`},
		{"NoDir", []string{"report", "b", "--failed", "-o", "/nonexistent/dir/f.csv"}, exitRuntime, "write /nonexistent/dir/f.csv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, db, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.code, tt.want)
			}
		})
	}
}

// The report's skipped line says why: duplicates alone read as they always
// have; a cancel is named with its count.
func TestSkippedText(t *testing.T) {
	for _, tt := range []struct {
		reasons map[string]int64
		want    string
	}{
		{nil, "duplicate openids"},
		{map[string]int64{"duplicate_openid": 3}, "duplicate openids"},
		{map[string]int64{"cancelled": 40}, "40 cancelled"},
		{map[string]int64{"cancelled": 40, "duplicate_openid": 1}, "40 cancelled, 1 duplicate openid"},
		{map[string]int64{"": 2}, "2 for no recorded reason"},
	} {
		if got := skippedText(tt.reasons); got != tt.want {
			t.Errorf("skippedText(%v) = %q, want %q", tt.reasons, got, tt.want)
		}
	}
}
