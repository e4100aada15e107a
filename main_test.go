package main

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

var update = flag.Bool("update", false, "rewrite the golden output in testdata/script/*.txtar")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"megasend": func() { os.Exit(run()) },
	})
}

// TestScript runs the end-to-end scripts in testdata/script against the real
// binary. Each script gets its own database.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       *update,
		Setup: func(env *testscript.Env) error {
			env.Setenv("MEGASEND_DB", filepath.Join(env.WorkDir, "megasend.db"))
			root, err := filepath.Abs(".")
			if err != nil {
				return err
			}
			// Scripts reach the bundled examples as $TESTDATA.
			env.Setenv("TESTDATA", filepath.Join(root, "testdata"))
			return nil
		},
	})
}
