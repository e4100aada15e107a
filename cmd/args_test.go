package cmd

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestNormalizeArgs(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "Before", in: "-q campaign --users u.csv", want: "-q campaign --users u.csv"},
		{name: "QuietAfter", in: "campaign --users u.csv -q", want: "-q campaign --users u.csv"},
		{name: "LogFormatAfter", in: "campaign --log-format json --users u.csv", want: "--log-format json campaign --users u.csv"},
		{name: "LogFormatEquals", in: "campaign --log-format=json", want: "--log-format=json campaign"},
		{name: "DBAfterPositional", in: "report b1 --db x.db --format json", want: "--db x.db report b1 --format json"},
		{name: "Subcommand", in: "template add k --title T -v", want: "-v template add k --title T"},
		{name: "KeepsOrder", in: "--db a.db campaign -q --db b.db", want: "--db a.db -q --db b.db campaign"},
		{name: "ValueIsNotAFlag", in: "campaign --batch -q", want: "campaign --batch -q"},
		{name: "ShortValueFlag", in: "campaign -t -v -u u.csv", want: "campaign -t -v -u u.csv"},
		{name: "AfterDoubleDash", in: "report -- -q", want: "report -- -q"},
		{name: "Stdin", in: "campaign --users - -q", want: "-q campaign --users -"},
		{name: "HelpStays", in: "campaign --help", want: "campaign --help"},
		{name: "UnknownCommand", in: "campain -q", want: "campain -q"},
		{name: "UnknownFlagLeft", in: "campaign --userz u.csv -q", want: "-q campaign --userz u.csv"},
		{name: "HelpCommand", in: "help template add", want: "template add --help"},
		{name: "HelpCommandGlobal", in: "help campaign -q", want: "-q campaign --help"},
		{name: "BareHelp", in: "help", want: "help"},
		{name: "SubcommandHelp", in: "template help add -q", want: "-q template add --help"},
		{name: "HelpAsArgument", in: "template show help", want: "template show help"},
		{name: "NoCommand", in: "-q", want: "-q"},
	}
	app := (&app{}).cli()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := normalizeArgs(app, append([]string{"megasend"}, strings.Fields(tt.in)...))
			if want := append([]string{"megasend"}, strings.Fields(tt.want)...); err != nil || !slices.Equal(got, want) {
				t.Errorf("normalizeArgs(%q) = %q, %v; want %q", tt.in, got, err, want[1:])
			}
		})
	}
}

// TestNormalizeArgs_Empty refuses a flag given an empty value, as a script's
// unset variable gives it, wherever the flag is.
func TestNormalizeArgs_Empty(t *testing.T) {
	tests := []struct {
		args []string
		want string // "": accepted
	}{
		{[]string{"campaign", "--batch", "", "--users", "u.csv"}, "--batch: empty value"},
		{[]string{"campaign", "--batch=", "--users", "u.csv"}, "--batch: empty value"},
		{[]string{"campaign", "--resume", ""}, "--resume: empty value"},
		{[]string{"campaign", "-t", "", "--users", "u"}, "--template: empty value"},
		{[]string{"campaign", "--users", ""}, "--users: empty value"},
		{[]string{"retry", "b", "--errcode", ""}, "--errcode: empty value"},
		{[]string{"--db", "", "batches"}, "--db: empty value"},
		{[]string{"batches", "--db="}, "--db: empty value"},
		{[]string{"template", "add", "k", "--title", ""}, "--title: empty value"},
		{[]string{"campaign", "--batch", "b", "--", ""}, ""},
		{[]string{"campaign", "--yes", ""}, ""}, // a positional, refused later
		{[]string{"campaign", "--batch"}, ""},   // urfave/cli: needs a value
	}
	app := (&app{}).cli()
	for _, tt := range tests {
		_, err := normalizeArgs(app, append([]string{"megasend"}, tt.args...))
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%q: %v; want it accepted", tt.args, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || exitCode(err) != exitUsage):
			t.Errorf("%q: %v; want exit 2 and %q", tt.args, err, tt.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	names := []string{"sandbox", "campaign", "template", "report", "batches", "retry", "config", "version"}
	tests := map[string]string{
		"campain": "campaign", "campaing": "campaign", "tempalte": "template", "reprot": "report", "batchs": "batches",
		"xyzzy": "", "send": "", "status": "", "x": "",
	}
	for typed, want := range tests {
		if got := suggest(typed, names); got != want {
			t.Errorf("suggest(%q) = %q; want %q", typed, got, want)
		}
	}
}

func TestExplainUsage(t *testing.T) {
	app := (&app{}).cli()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"campaign", "--userz", "u.csv"}, "unknown flag --userz (did you mean --users?); see 'megasend campaign --help'"},
		{[]string{"campaign", "--log-formt", "json"}, "unknown flag --log-formt (did you mean --log-format?)"},
		{[]string{"--verbos", "batches"}, "unknown flag --verbos (did you mean --verbose?); see 'megasend --help'"},
		{[]string{"campaign", "--xyzzy"}, "unknown flag --xyzzy; see 'megasend campaign --help'"},
		{[]string{"campaign", "--request-timeout", "5"}, `--request-timeout "5": not valid; want a duration such as 15s`},
		{[]string{"campaign", "--rate", "fast"}, `--rate "fast": not valid; want a number`},
		{[]string{"retry", "--concurrency", "x", "b"}, `--concurrency "x": not valid; want a whole number`},
		{[]string{"campaign", "--users"}, "--users needs a value"},
		// Flags after a positional, parsed by the commands themselves.
		{[]string{"template", "add", "k", "--titel", "x"}, "unknown flag --titel (did you mean --title?); see 'megasend template add --help'"},
		{[]string{"retry", "b", "--rat", "0"}, "unknown flag --rat (did you mean --rate?); see 'megasend retry --help'"},
		{[]string{"retry", "b", "--rate", "x"}, `--rate "x": not valid; want a number`},
	}
	for _, tt := range tests {
		err := app.Run(append([]string{"megasend"}, tt.args...))
		if err == nil || !strings.Contains(err.Error(), tt.want) || exitCode(err) != exitUsage {
			t.Errorf("%q: %v (exit %d); want exit 2 and %q", tt.args, err, exitCode(err), tt.want)
		}
		var ce *codedError
		if !errors.As(err, &ce) {
			t.Errorf("%q: not a usage error", tt.args)
		}
	}
}
