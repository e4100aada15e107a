package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// TestBuild_Static builds megasend as README.md says to and checks that the
// result is the one static file it promises: an ELF with no interpreter and
// no shared library to load. A plain "go build" is not: with cgo on (the
// default where a C compiler is found) the net and os/user packages link
// the C library dynamically.
func TestBuild_Static(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	if runtime.GOOS != "linux" {
		t.Skip("checks an ELF binary")
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("To build the binary: `([^`]+)`").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md says nowhere how to build the binary")
	}
	words := strings.Fields(string(m[1]))
	env := os.Environ()
	for len(words) > 0 && strings.Contains(words[0], "=") {
		env = append(env, words[0])
		words = words[1:]
	}
	if len(words) < 4 || strings.Join(words[:3], " ") != "go build -o" {
		t.Fatalf("README.md's build line %q is not 'go build -o FILE ...'", m[1])
	}
	bin := filepath.Join(t.TempDir(), "megasend")
	words[3] = bin
	cmd := exec.Command(words[0], words[1:]...)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", m[1], err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s builds a dynamically linked binary (it has an interpreter)", m[1])
		}
	}
	if libs, err := f.ImportedLibraries(); err == nil && len(libs) > 0 {
		t.Errorf("%s builds a binary that loads %v", m[1], libs)
	}
}
