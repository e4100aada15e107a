package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Commands that only read the database do not create it: a mistyped --db
// must not leave an empty database (and its directory) behind and then
// report that it holds nothing.
func TestReadOnlyCommandsCreateNothing(t *testing.T) {
	for _, tt := range []struct {
		args     []string
		code     int
		out, err string
	}{
		{args: []string{"batches"}, code: exitOK, err: "no batches in "},
		{args: []string{"batches", "--json"}, code: exitOK, out: "[]\n"},
		{args: []string{"template", "list"}, code: exitOK, err: "no templates"},
		{args: []string{"template", "show", "order_paid"}, code: exitUsage, err: `no template "order_paid"`},
		{args: []string{"template", "export"}, code: exitOK, err: "no templates to export"},
		{args: []string{"template", "rm", "order_paid"}, code: exitUsage, err: `no template "order_paid"`},
		{args: []string{"template", "lint", "order_paid"}, code: exitUsage, err: `no template "order_paid"`},
		{args: []string{"report", "b1"}, code: exitUsage, err: `no batch "b1": there is no database at `},
		{args: []string{"retry", "b1", "--sandbox"}, code: exitUsage, err: `no batch "b1"`},
		{args: []string{"apikey", "list"}, code: exitOK, err: "no API keys in "},
		{args: []string{"apikey", "list", "--json"}, code: exitOK, out: "[]\n"},
		{args: []string{"apikey", "rm", "crm"}, code: exitUsage, err: `no API key "crm": there is no database at `},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "typo")
			db := filepath.Join(dir, "m.db")
			code, out, stderr := runCLI(t, db, tt.args...)
			if code != tt.code || !strings.Contains(out, tt.out) || !strings.Contains(stderr, tt.err) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, %q in stdout, %q in stderr",
					code, out, stderr, tt.code, tt.out, tt.err)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("%s exists after the command (%v)", dir, err)
			}
		})
	}
}
