package cmd

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestHelp_README checks that the usage lines README.md shows for a command
// are the ones its --help shows, so that neither lists what the other
// lacks.
func TestHelp_README(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	app := (&app{}).cli()
	for _, name := range []string{"campaign", "retry"} {
		cmd := findCommand(app.Commands, name)
		// A usage block in README: a line that starts with "megasend NAME "
		// and has an optional [--flag], and its indented continuation lines.
		// Examples have no brackets.
		re := regexp.MustCompile(`(?m)^megasend ` + name + ` [^\n]*\[[^\n]*\n(?: {10,}\[.*\n)*`)
		blocks := re.FindAll(readme, -1)
		if len(blocks) == 0 {
			t.Fatalf("README.md shows no usage for %s", name)
		}
		for _, b := range blocks {
			if !strings.Contains(cmd.UsageText, strings.TrimSuffix(string(b), "\n")) {
				t.Errorf("README.md's usage of %s is not in its --help:\n%s\nhelp:\n%s", name, b, cmd.UsageText)
			}
		}
	}
}

// TestHelp_Flags checks the help text of every command: no "(default:
// false)", a placeholder that says what a value flag takes, and usage
// lines that start in lower case, as every other line does.
func TestHelp_Flags(t *testing.T) {
	app := (&app{}).cli()
	var walk func(prefix string, cmds []*cli.Command)
	walk = func(prefix string, cmds []*cli.Command) {
		for _, c := range cmds {
			name := strings.TrimSpace(prefix + " " + c.Name)
			if u := c.Usage; u != "" && strings.ToLower(u[:1]) != u[:1] {
				t.Errorf("%s: usage %q starts in upper case", name, u)
			}
			var out bytes.Buffer
			for _, f := range c.Flags {
				out.WriteString(f.String() + "\n")
			}
			if strings.Contains(out.String(), "(default: false)") {
				t.Errorf("%s: help shows (default: false):\n%s", name, out.String())
			}
			if strings.Contains(out.String(), " value ") {
				t.Errorf("%s: a flag without a placeholder (\"value\"):\n%s", name, out.String())
			}
			walk(name, c.Subcommands)
		}
	}
	walk("", app.Commands)
	var out bytes.Buffer
	for _, f := range app.Flags {
		out.WriteString(f.String() + "\n")
	}
	if strings.Contains(out.String(), "(default: false)") || strings.Contains(out.String(), " value ") {
		t.Errorf("global flags:\n%s", out.String())
	}
}

// TestHelp_Placeholders checks that every value flag's placeholder names
// what it takes (DURATION, FILE, FRACTION): a single letter says nothing,
// except N for a count. Usage lines are held to the same.
func TestHelp_Placeholders(t *testing.T) {
	letter := regexp.MustCompile(`--[a-z-]+ ([A-Z])\b`)
	placeholder := regexp.MustCompile("`([^`]*)`") // urfave/cli's: the first back-quoted word
	check := func(where string, flags []cli.Flag, usageText string) {
		for _, f := range flags {
			u, ok := f.(interface{ GetUsage() string })
			if !ok {
				continue
			}
			if m := placeholder.FindStringSubmatch(u.GetUsage()); m != nil && len(m[1]) == 1 && m[1] != "N" {
				t.Errorf("%s --%s: placeholder %q says nothing of what it takes", where, f.Names()[0], m[1])
			}
		}
		for _, m := range letter.FindAllStringSubmatch(usageText, -1) {
			if m[1] != "N" {
				t.Errorf("%s: usage line %q has a one-letter placeholder", where, m[0])
			}
		}
	}
	app := (&app{}).cli()
	var walk func(prefix string, cmds []*cli.Command)
	walk = func(prefix string, cmds []*cli.Command) {
		for _, c := range cmds {
			name := strings.TrimSpace(prefix + " " + c.Name)
			check(name, c.Flags, c.UsageText)
			walk(name, c.Subcommands)
		}
	}
	walk("", app.Commands)
	check("megasend", app.Flags, app.UsageText)
}
