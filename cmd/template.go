package cmd

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/megasend/megasend/campaign"
	"github.com/megasend/megasend/template"
)

// Flags of the template subcommands.
const (
	flgTitle = "title"
	flgFile  = "file"
	flgDir   = "dir"
	flgKind  = "kind"
)

func (a *app) templateCommand() *cli.Command {
	sub := []*cli.Command{
		{
			Name:      "add",
			Usage:     "store a template under KEY, or replace it",
			ArgsUsage: "KEY [--title TITLE] [--kind KIND] [--file PATH|-]",
			Description: "The body is the WeChat request body as JSON with ${var} placeholders, read from --file\n" +
				"(a .json or .toml template file, see 'template import') or from stdin. Without --title,\n" +
				"the file's title is used, or the stored template's is kept. The kind says which message\n" +
				"the body is: template (template/send, the default), custom (a customer-service message,\n" +
				"custom/send: {\"touser\",\"msgtype\":\"text\",\"text\":{\"content\"}}) or subscribe (a subscribe\n" +
				"notification, subscribe/bizsend). Without --kind, the file's kind is used, or the stored\n" +
				"template's is kept.",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: flgTitle, Usage: "the template's `TITLE`"},
				&cli.StringFlag{Name: flgKind, Usage: "the template's `KIND`: template, custom or subscribe", DefaultText: "template"},
				&cli.StringFlag{Name: flgFile, Aliases: []string{"f"}, Usage: "read the body from `PATH` (- for stdin, the default)"},
			},
			Action: func(c *cli.Context) error {
				args, fl, err := lateFlags(c, 1, 2)
				if err != nil {
					return err
				}
				if len(args) == 2 {
					// "template add KEY FILE" reads like the body's file was
					// given; it must be named with --file.
					return usageErrorf("template add: unexpected argument %q; to read the body from a file: megasend template add %s --file %s",
						args[1], shellQuote(args[0]), shellQuote(args[1]))
				}
				title, titleSet := fl(flgTitle)
				file, _ := fl(flgFile)
				kind, _ := fl(flgKind)
				return a.runTemplateAdd(c.Context, args[0], title, titleSet, kind, file)
			},
		},
		{
			Name:  "list",
			Usage: "list the stored templates",
			Action: func(c *cli.Context) error {
				if _, _, err := lateFlags(c, 0, 0); err != nil {
					return err
				}
				return a.runTemplateList(c.Context)
			},
		},
		{
			Name:      "show",
			Usage:     "print a stored template's body exactly as stored",
			ArgsUsage: "KEY",
			Action: func(c *cli.Context) error {
				args, _, err := lateFlags(c, 1, 1)
				if err != nil {
					return err
				}
				return a.runTemplateShow(c.Context, args[0])
			},
		},
		{
			Name:      "rm",
			Usage:     "delete stored templates, all of them or none if one is missing (batches keep their own copy)",
			ArgsUsage: "KEY...",
			Action: func(c *cli.Context) error {
				args, _, err := lateFlags(c, 1, -1)
				if err != nil {
					return err
				}
				return a.runTemplateRm(c.Context, args)
			},
		},
		{
			Name:      "import",
			Usage:     "store templates from files or directories, one template per file",
			ArgsUsage: "PATH...",
			Description: "A .toml file has the string fields key, title and body (the JSON body). Any other file is\n" +
				"JSON: the bare request body, or {\"key\": …, \"title\": …, \"body\": {…}} as 'template export' writes.\n" +
				"A file without a key is stored under its name without the extension. A directory imports\n" +
				"its .json and .toml files. Nothing is stored unless every file is valid.",
			Action: func(c *cli.Context) error {
				args, _, err := lateFlags(c, 1, -1)
				if err != nil {
					return err
				}
				return a.runTemplateImport(c.Context, args)
			},
		},
		{
			Name:      "export",
			Usage:     "write stored templates as files 'template import' reads back",
			ArgsUsage: "[KEY] [--dir DIR]",
			Description: "With KEY and without --dir the template goes to stdout; with --dir each template goes\n" +
				"to DIR/KEY.json. All templates need --dir: one file holds one template.",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: flgDir, Usage: "write one file per template into `DIR`"},
			},
			Action: func(c *cli.Context) error {
				args, fl, err := lateFlags(c, 0, 1)
				if err != nil {
					return err
				}
				dir, _ := fl(flgDir)
				key := ""
				if len(args) == 1 {
					key = args[0]
				}
				return a.runTemplateExport(c.Context, key, dir)
			},
		},
		{
			Name:      "lint",
			Usage:     "check a template, and every recipient rendered with it, against WeChat's rules",
			ArgsUsage: "KEY|PATH [--users PATH|-] [--encoding gbk]",
			Description: "KEY|PATH follows the rule of campaign --template: an argument containing a / or ending in\n" +
				".json or .toml is a file; anything else is a stored key. Problems are printed one per line\n" +
				"with the file and line; the exit status is 2 if any is an error (the campaign would be\n" +
				"refused or recipients would fail with 47003), 0 otherwise. Nothing is sent.",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: flgUsers, Aliases: []string{"u"}, Usage: "also render every recipient of `PATH` (CSV or JSONL, - for stdin)"},
				&cli.StringFlag{Name: flgEncoding, Usage: "`NAME` of the users file's encoding: utf-8 or gbk", DefaultText: "utf-8"},
				openIDCheckFlag(nil),
			},
			Action: func(c *cli.Context) error {
				args, fl, err := lateFlags(c, 1, 1)
				if err != nil {
					return err
				}
				users, _ := fl(flgUsers)
				enc, _ := fl(flgEncoding)
				check, _ := fl(flgOpenIDCheck)
				ids, err := parseOpenIDCheck(check)
				if err != nil {
					return err
				}
				return a.runTemplateLint(c.Context, args[0], users, campaign.Input{Encoding: enc, OpenIDs: ids})
			},
		},
		{
			Name:  "pull",
			Usage: "store a skeleton for every template of the WeChat account not stored yet",
			Description: "Reads the account's templates (get_all_private_template). Each one whose template_id no\n" +
				"stored template uses is stored under its template_id as key, with touser ${openid} and one\n" +
				"data entry per {{key.DATA}} field of its content, valued ${key} (first and remark, which\n" +
				"WeChat drops, are left out). Edit the result with 'template show' and 'template add'.",
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: flgSandbox, Usage: "read from a simulated WeChat API in-process (no account needed)"},
			},
			Action: func(c *cli.Context) error {
				if _, _, err := lateFlags(c, 0, 0); err != nil {
					return err
				}
				return a.runTemplatePull(c.Context, c.Bool(flgSandbox))
			},
		},
	}
	return &cli.Command{
		Name:        "template",
		Usage:       "store, show, import, export and lint message templates",
		Subcommands: sub,
	}
}

// lateFlags returns a subcommand's positional arguments, at least min and
// at most max (-1: any), and a getter for its string flags. Go's flag
// package, under urfave/cli v2, stops at the first positional argument, so
// "add KEY --title T" would leave --title unparsed; flags after the
// positionals are parsed here. The getter reports whether a flag was set.
func lateFlags(c *cli.Context, min, max int) ([]string, func(string) (string, bool), error) {
	late := flag.NewFlagSet(c.Command.Name, flag.ContinueOnError)
	late.SetOutput(io.Discard)
	for _, f := range c.Command.Flags {
		if err := f.Apply(late); err != nil {
			return nil, nil, err
		}
	}
	var pos []string
	for rest := c.Args().Slice(); len(rest) > 0; {
		switch {
		case rest[0] == "--":
			pos, rest = append(pos, rest[1:]...), nil
		case len(rest[0]) > 1 && rest[0][0] == '-':
			if err := late.Parse(rest); err != nil {
				return nil, nil, usageError(explainUsage(c, err))
			}
			rest = late.Args()
		default:
			pos, rest = append(pos, rest[0]), rest[1:]
		}
	}
	setLate := map[string]bool{}
	late.Visit(func(f *flag.Flag) { setLate[f.Name] = true })
	get := func(name string) (string, bool) {
		for _, f := range c.Command.Flags {
			names := f.Names()
			if names[0] != name {
				continue
			}
			for _, n := range names { // -u and --users are separate entries in a FlagSet
				if setLate[n] {
					return late.Lookup(n).Value.String(), true
				}
			}
		}
		return c.String(name), c.IsSet(name)
	}
	switch {
	case len(pos) < min:
		return nil, nil, usageErrorf("template %s: missing argument; usage: megasend template %s %s", c.Command.Name, c.Command.Name, c.Command.ArgsUsage)
	case max >= 0 && len(pos) > max:
		return nil, nil, usageErrorf("template %s: unexpected argument %q", c.Command.Name, pos[max])
	}
	return pos, get, nil
}

// errNoTemplate is the usage error for a key that is not stored.
func errNoTemplate(key string) error {
	return usageErrorf("no template %q; see 'megasend template list'", key)
}

// errNoTemplates names every key of a list that is not stored; rm then
// removes none of the list.
func errNoTemplates(keys []string) error {
	if len(keys) == 1 {
		return usageErrorf("no template %q (nothing removed); see 'megasend template list'", keys[0])
	}
	quoted := make([]string, len(keys))
	for i, k := range keys {
		quoted[i] = strconv.Quote(k)
	}
	return usageErrorf("no templates %s (nothing removed); see 'megasend template list'", strings.Join(quoted, ", "))
}

// getTemplate reads a stored template, mapping NotFound to exit 2.
func getTemplate(ctx context.Context, svc *campaign.Service, key string) (campaign.StoredTemplate, error) {
	st, err := svc.GetTemplate(ctx, key)
	if campaign.ErrorCode(err) == campaign.NotFound {
		return campaign.StoredTemplate{}, errNoTemplate(key)
	}
	return st, err
}

// templates opens the database and the lifecycle over it, for the template
// commands; toRead opens it to read (a missing database is noStore's).
func (a *app) templates(ctx context.Context, toRead bool) (*campaign.Service, func(), error) {
	open := a.openStore
	if toRead {
		open = a.openStoreToRead
	}
	db, err := open(ctx)
	if err != nil {
		return nil, nil, err
	}
	return campaign.New(db, a.owner(), a.log), func() { db.Close() }, nil
}

func (a *app) runTemplateAdd(ctx context.Context, key, title string, titleSet bool, kindName, file string) error {
	if err := template.CheckKey(key); err != nil {
		return usageError(err)
	}
	var kind template.Kind
	if kindName != "" {
		var err error
		if kind, err = template.ParseKind(kindName); err != nil {
			return usageErrorf("template add: --kind: %w", err)
		}
	}
	var data []byte
	var err error
	name := file
	if file == "" || file == "-" {
		name = "stdin"
		if file == "" && a.streams.InIsTerminal {
			// Otherwise a person who forgot --file waits on a silent prompt.
			fmt.Fprintln(a.streams.Err, "reading the template body from stdin (end with Ctrl-D); to read a file: --file PATH")
		}
		data, err = io.ReadAll(a.streams.In)
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return usageErrorf("template add: %w", err)
	}
	t, err := template.ParseFile(name, data)
	if err != nil {
		return usageErrorf("template add: %w", err)
	}
	if kind != "" && t.KindStated() && t.Kind != kind {
		return usageErrorf("template add: --kind %s, but %s says kind %s", kind, name, t.Kind)
	}
	svc, closeDB, err := a.templates(ctx, false)
	if err != nil {
		return err
	}
	defer closeDB()
	old, err := svc.GetTemplate(ctx, key)
	if err != nil && campaign.ErrorCode(err) != campaign.NotFound {
		return err
	}
	title = pickTitle(title, titleSet, t.Title, old.Title)
	switch {
	case kind != "":
	case t.KindStated():
		kind = t.Kind
	case old.Kind != "":
		kind = template.Kind(old.Kind) // "show > f; add --file f" keeps it
	default:
		kind = template.KindTemplate
	}
	t = t.WithKind(kind)
	// Saved with lint errors too: printLint says why campaigns refuse it.
	saved, err := svc.SaveTemplate(ctx, key, title, kind, t.Body())
	if err != nil {
		return err
	}
	verb := "replaced"
	if saved.Created {
		verb = "added"
	}
	what := "template"
	if kind != template.KindTemplate {
		what = string(kind) + " template" // "added custom template k"
	}
	fmt.Fprintf(a.streams.Out, "%s %s %s (variables: %s)\n", verb, what, key, strings.Join(t.Vars(), ", "))
	a.printLint(key, key, t.Lint())
	return nil
}

// pickTitle chooses a stored template's title: the flag's, else the
// file's, else the one already stored, so that editing a body through
// "show > file; add --file file" does not lose the title.
func pickTitle(flagTitle string, flagSet bool, fileTitle, storedTitle string) string {
	switch {
	case flagSet:
		return flagTitle
	case fileTitle != "":
		return fileTitle
	}
	return storedTitle
}

// printLint reports a stored template's own errors on stderr, and counts
// its warnings. Storing goes ahead: a template may be saved half-done,
// and the campaign refuses one with errors.
func (a *app) printLint(key, file string, ps []template.Problem) {
	warnings, errs := 0, 0
	for _, p := range ps {
		if p.Severity == template.Error {
			errs++
			printProblem(a.streams.Err, campaign.LintProblem(file, p))
		} else {
			warnings++
		}
	}
	if errs > 0 {
		fmt.Fprintf(a.streams.Err, "template %s: %d %s; campaigns refuse it until fixed\n", key, errs, plural(errs, "error"))
	}
	if warnings > 0 {
		fmt.Fprintf(a.streams.Err, "template %s: %d %s; see 'megasend template lint %s'\n", key, warnings, plural(warnings, "warning"), key)
	}
}

func (a *app) runTemplateList(ctx context.Context) error {
	svc, closeDB, err := a.templates(ctx, true)
	_, missing := noStore(err)
	if err != nil && !missing {
		return err
	}
	var list []campaign.StoredTemplate
	if !missing {
		defer closeDB()
		if list, err = svc.ListTemplates(ctx); err != nil {
			return err
		}
	}
	if len(list) == 0 {
		fmt.Fprintln(a.streams.Err, "no templates; add one with 'megasend template add KEY --file body.json' or 'megasend template import PATH'")
		return nil
	}
	var tb table
	tb.add("KEY", "TITLE", "KIND", "TEMPLATE ID", "VARIABLES", "UPDATED")
	for _, st := range list {
		id, vars := "?", "?" // a body stored by another version that no longer parses
		if t := st.Parsed; t != nil {
			id, vars = t.TemplateID(), strings.Join(t.Vars(), ",")
		}
		tb.add(st.Key, orDash(st.Title), orDash(st.Kind), orDash(id), orDash(vars), st.UpdatedAt.Local().Format("2006-01-02 15:04"))
	}
	return tb.write(a.streams.Out, "")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// runTemplateShow prints the body as stored plus one newline, so that
// "show KEY > f; add KEY --file f" stores the same bytes again.
func (a *app) runTemplateShow(ctx context.Context, key string) error {
	svc, closeDB, err := a.templates(ctx, true)
	if _, ok := noStore(err); ok {
		return errNoTemplate(key)
	}
	if err != nil {
		return err
	}
	defer closeDB()
	st, err := getTemplate(ctx, svc, key)
	if err != nil {
		return err
	}
	// The body alone on stdout, so that it round-trips; a kind other than
	// the default said beside it (add keeps the stored kind).
	if st.Kind != "" && st.Kind != string(template.KindTemplate) {
		fmt.Fprintf(a.streams.Err, "template %s: kind %s (%s)\n", key, st.Kind, template.Kind(st.Kind).Describe())
	}
	_, err = fmt.Fprintf(a.streams.Out, "%s\n", st.Body)
	return err
}

func (a *app) runTemplateRm(ctx context.Context, keys []string) error {
	svc, closeDB, err := a.templates(ctx, true)
	if _, ok := noStore(err); ok {
		return errNoTemplates(keys)
	}
	if err != nil {
		return err
	}
	defer closeDB()
	missing, err := svc.DeleteTemplates(ctx, keys)
	if campaign.ErrorCode(err) == campaign.NotFound {
		return errNoTemplates(missing)
	}
	if err != nil {
		return err
	}
	for i, key := range keys {
		if !slices.Contains(keys[:i], key) {
			fmt.Fprintf(a.streams.Out, "removed template %s\n", key)
		}
	}
	return nil
}
