package cmd

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
	"github.com/xrash/smetrics"
)

// normalizeArgs prepares the command line for urfave/cli v2: it moves the
// global flags given after the command (-q, --log-format json, --db FILE
// ...) in front of it, where v2 parses them, so that "megasend campaign ...
// -q" means what "megasend -q campaign ..." means, as with gh, restic and
// rclone; it turns "help COMMAND..." into "COMMAND... --help"; and it
// refuses a flag given an empty value.
//
// A flag the command defines itself stays the command's; everything after
// "--" stays where it is; so do the arguments of an unknown command, which
// is refused anyway. The flags of the command chain are consulted so that a
// flag's value is never taken for a flag of its own: in "--batch -q" the -q
// is the batch's name (and refused as such later), not --quiet.
func normalizeArgs(app *cli.App, args []string) ([]string, error) {
	if len(args) < 2 {
		return args, nil
	}
	i := 1
	for i < len(args) && isFlagToken(args[i]) {
		n, err := flagSpan(app.Flags, args, i)
		if err != nil {
			return nil, err
		}
		i += n
	}
	if i >= len(args) || args[i] == "--" {
		return args, nil
	}
	if args[i] == "help" && i+1 < len(args) {
		// "help template add" is "template add --help": the help a
		// command's own --help gives, listing its subcommands, which
		// urfave/cli's help command cannot before the command has run.
		return normalizeArgs(app, slices.Concat(args[:i], args[i+1:], []string{"--help"}))
	}
	cur := findCommand(app.Commands, args[i])
	if cur == nil {
		return args, nil
	}
	out := append([]string(nil), args[:i]...)
	rest := []string{args[i]}
	positional := false
	for j := i + 1; j < len(args); {
		t := args[j]
		switch {
		case t == "--":
			rest = append(rest, args[j:]...)
			j = len(args)
		case isFlagToken(t) && (lookupFlag(cur.Flags, flagName(t)) != nil || isGlobal(app, flagName(t))):
			flags, to := cur.Flags, &rest
			if lookupFlag(cur.Flags, flagName(t)) == nil {
				flags, to = app.Flags, &out
			}
			n, err := flagSpan(flags, args, j)
			if err != nil {
				return nil, err
			}
			*to = append(*to, args[j:j+n]...)
			j += n
		default:
			// A subcommand is the first positional of a command that has
			// some. An unknown flag is left for urfave/cli to refuse.
			if !isFlagToken(t) {
				if t == "help" && !positional && len(cur.Subcommands) > 0 && j+1 < len(args) {
					// "template help add" is "template add --help".
					return normalizeArgs(app, slices.Concat(args[:j], args[j+1:], []string{"--help"}))
				}
				if sub := findCommand(cur.Subcommands, t); sub != nil && !positional {
					cur = sub
				} else {
					positional = true
				}
			}
			rest = append(rest, t)
			j++
		}
	}
	return append(out, rest...), nil
}

// isGlobal reports whether name is a global flag that may follow the
// command. --help stays where it is: after a command it asks for that
// command's help.
func isGlobal(app *cli.App, name string) bool {
	f := lookupFlag(app.Flags, name)
	return f != nil && f != cli.HelpFlag
}

// isFlagToken reports whether an argument is spelled as a flag. A lone "-"
// is a positional: stdin.
func isFlagToken(s string) bool { return len(s) > 1 && s[0] == '-' && s != "--" }

// flagName is the name in "-q", "--log-format", "--db=FILE".
func flagName(s string) string {
	s = strings.TrimLeft(s, "-")
	name, _, _ := strings.Cut(s, "=")
	return name
}

// flagSpan is how many arguments the flag at args[i] spans: 2 for a flag
// that takes its value from the next argument, else 1. A value flag given
// an empty value is refused: in a script, --batch "$NAME" with NAME unset
// would otherwise mean no --batch at all, and a cron line would send the
// whole list again on every run.
func flagSpan(flags []cli.Flag, args []string, i int) (int, error) {
	f := lookupFlag(flags, flagName(args[i]))
	if f == nil || !takesValue(f) {
		return 1, nil
	}
	n, value := 1, ""
	if _, v, ok := strings.Cut(args[i], "="); ok {
		value = v
	} else if i+1 < len(args) {
		n, value = 2, args[i+1]
	} else {
		return 1, nil // urfave/cli says the value is missing
	}
	if value == "" {
		return 0, usageErrorf("%s: empty value (an unset variable in a script?); %s", dashed(f.Names()[0]), emptyAdvice(f.Names()[0]))
	}
	return n, nil
}

// emptyAdvice says what to do instead of an empty value.
func emptyAdvice(name string) string {
	switch name {
	case flgBatch:
		return "name the batch, or leave --batch out for a new batch named after the template and the time"
	case flgResume:
		return "name the batch to resume (see 'megasend batches')"
	}
	return "give a value, or leave the flag out"
}

func lookupFlag(flags []cli.Flag, name string) cli.Flag {
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return f
			}
		}
	}
	return nil
}

func takesValue(f cli.Flag) bool {
	v, ok := f.(cli.DocGenerationFlag)
	return ok && v.TakesValue()
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

// suggest returns the name among names nearest to typed, or "" when none
// is near enough to be what was meant. It uses urfave/cli's measure
// (Jaro-Winkler, its parameters) but not its SuggestFlag/SuggestCommand,
// which always name the nearest however far: "megasend xyzzy" must not be
// answered "did you mean sandbox?".
func suggest(typed string, names []string) string {
	const near = 0.85 // "lsit"/"list" 0.93, "send"/"sandbox" 0.75
	best, score := "", near
	for _, n := range names {
		if s := smetrics.JaroWinkler(typed, n, 0.7, 4); s >= score {
			best, score = n, s
		}
	}
	return best
}

// didYouMean is the hint for an unknown command or flag: " (did you mean
// X?)", or "" without a near one.
func didYouMean(typed string, names []string, prefix string) string {
	if s := suggest(typed, names); s != "" {
		return fmt.Sprintf(" (did you mean %s%s?)", prefix, s)
	}
	return ""
}

// visibleFlagNames are the long names of the flags a user may be pointed
// to: a command's own, and the global ones, which go anywhere.
func visibleFlagNames(flagSets ...[]cli.Flag) []string {
	var names []string
	for _, flags := range flagSets {
		for _, f := range flags {
			if vf, ok := f.(cli.VisibleFlag); ok && !vf.IsVisible() {
				continue
			}
			names = append(names, f.Names()[0])
		}
	}
	return names
}

func commandNames(cmds []*cli.Command) []string {
	var names []string
	for _, c := range cmds {
		if !c.Hidden {
			names = append(names, c.Name)
		}
	}
	return names
}

// flagErrorPattern matches the flag package's "invalid value" errors.
var flagErrorPattern = regexp.MustCompile(`^invalid (?:boolean )?value "(.*)" for (?:flag )?-([^:]+): `)

// explainUsage rewrites the flag package's errors, which name a flag with
// one dash and give no hint, in megasend's words: the flag as documented,
// the value it wants, and for a typo the flag that was probably meant.
func explainUsage(c *cli.Context, err error) error {
	if err == nil {
		return nil
	}
	var flags []cli.Flag
	where := "megasend"
	if c != nil && c.Command != nil {
		flags = c.Command.Flags
		if c.Command.HelpName != "" {
			where = c.Command.HelpName
		}
	}
	var global []cli.Flag
	if c != nil && c.App != nil && (c.Command == nil || c.Command.Name != c.App.Name) {
		global = c.App.Flags
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return fmt.Errorf("unknown flag %s%s; see '%s --help'", dashed(name),
			didYouMean(name, visibleFlagNames(flags, global), "--"), where)
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return fmt.Errorf("%s needs a value%s", dashed(name), wantText(lookupFlag(flags, name)))
	}
	if m := flagErrorPattern.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("%s %q: not valid%s", dashed(m[2]), m[1], wantText(lookupFlag(flags, m[2])))
	}
	return err
}

// dashed spells a flag name as the help shows it.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// wantText says what kind of value a flag takes: "; want a duration such as 15s".
func wantText(f cli.Flag) string {
	switch f.(type) {
	case *cli.DurationFlag:
		return "; want a duration such as 15s, 1m30s or 500ms"
	case *cli.Float64Flag:
		return "; want a number such as 200 or 0.5"
	case *cli.IntFlag, *cli.Int64Flag, *cli.UintFlag:
		return "; want a whole number such as 32"
	case *cli.BoolFlag:
		return "; want true or false, or the flag alone"
	}
	return ""
}

// flagGiven reports whether the command's flag name was given on the
// command line, before its positional arguments (cCtx.IsSet) or after them
// (parseInterleaved, which IsSet does not see).
func flagGiven(c *cli.Context, name string) bool {
	if c.IsSet(name) {
		return true
	}
	f := lookupFlag(c.Command.Flags, name)
	if f == nil {
		return false
	}
	for _, t := range c.Args().Slice() {
		if t == "--" {
			break
		}
		if isFlagToken(t) && slices.Contains(f.Names(), flagName(t)) {
			return true
		}
	}
	return false
}

// innermost is the error at the end of err's chain: the flag package's own
// error, under the wrapping of a parser such as parseInterleaved.
func innermost(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}
