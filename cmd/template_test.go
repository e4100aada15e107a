package cmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runTemplateCLI runs megasend in-process against the database db and
// returns its exit code, stdout and stderr.
func runTemplateCLI(t *testing.T, db string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	s := Streams{
		In: strings.NewReader(stdin), Out: &out, Err: &errOut,
		Getenv: func(string) string { return "" },
	}
	code := Main(context.Background(), append([]string{"megasend", "--" + flgDB, db}, args...), s, nil)
	return code, out.String(), errOut.String()
}

const testBody = `{"touser": "${openid}", "template_id": "T", "data": {"keyword1": {"value": "${x}"}}}`

func TestTemplateCommand_FlagsAnywhere(t *testing.T) {
	dir := t.TempDir()
	body := filepath.Join(dir, "body.json")
	if err := os.WriteFile(body, []byte(testBody+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
	}{
		{"after", []string{"template", "add", "k", "--title", "标题", "--file", body}},
		{"before", []string{"template", "add", "--title", "标题", "--file", body, "k"}},
		{"mixed short", []string{"template", "add", "--title=标题", "k", "-f", body}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "m.db")
			if code, _, stderr := runTemplateCLI(t, db, "", tt.args...); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			code, stdout, stderr := runTemplateCLI(t, db, "", "template", "list")
			if code != 0 || !strings.Contains(stdout, "k    标题") {
				t.Errorf("list: exit %d, stdout %q, stderr %q; want k with its title", code, stdout, stderr)
			}
			code, stdout, _ = runTemplateCLI(t, db, "", "template", "show", "k")
			if code != 0 || stdout != testBody+"\n" {
				t.Errorf("show: exit %d, %q", code, stdout)
			}
		})
	}
}

func TestTemplateCommand_Errors(t *testing.T) {
	db := filepath.Join(t.TempDir(), "m.db")
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"unknown flag", "", []string{"template", "add", "k", "--tittle", "x"}, "unknown flag --tittle (did you mean --title?)"},
		{"bad stdin", "{", []string{"template", "add", "k"}, "stdin:1:1: unexpected end of JSON input"},
		{"missing key", "", []string{"template", "show", "nope"}, `no template "nope"`},
		{"lint missing users", "", []string{"template", "lint", "../testdata/templates/order_paid.json", "--users", "nope.csv"}, "users file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runTemplateCLI(t, db, tt.stdin, tt.args...)
			if code != exitUsage || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, stderr, tt.want)
			}
		})
	}
}

func TestPickTitle(t *testing.T) {
	tests := []struct {
		name, flag   string
		flagSet      bool
		file, stored string
		want         string
	}{
		{"flag wins", "F", true, "file", "stored", "F"},
		{"empty flag clears", "", true, "file", "stored", ""},
		{"file", "", false, "file", "stored", "file"},
		{"stored kept", "", false, "", "stored", "stored"},
		{"none", "", false, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pickTitle(tt.flag, tt.flagSet, tt.file, tt.stored); got != tt.want {
				t.Errorf("pickTitle() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestTemplateAdd_StdinOnTerminal: without --file, add reads stdin; at a
// terminal it says so, rather than wait in silence. From a pipe it says
// nothing, and neither does --file -.
func TestTemplateAdd_StdinOnTerminal(t *testing.T) {
	const hint = "reading the template body from stdin (end with Ctrl-D); to read a file: --file PATH"
	for _, tt := range []struct {
		name     string
		terminal bool
		args     []string
		want     bool
	}{
		{"Terminal", true, nil, true},
		{"Pipe", false, nil, false},
		{"FileDash", true, []string{"--file", "-"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "m.db")
			args := append([]string{"--db", db, "template", "add", "k"}, tt.args...)
			code, stdout, stderr := runWith(t, testBody, tt.terminal, nil, args...)
			if code != exitOK || !strings.Contains(stdout, "added template k") {
				t.Fatalf("exit %d: %s%s", code, stdout, stderr)
			}
			if strings.Contains(stderr, hint) != tt.want {
				t.Errorf("stderr %q; want the hint: %v", stderr, tt.want)
			}
		})
	}
}
