package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/megasend/megasend/apikey"
	"github.com/megasend/megasend/store"
)

// apikeyListOptions are the parsed flags of megasend apikey list.
type apikeyListOptions struct {
	json bool
}

func (a *app) apikeyCommand() *cli.Command {
	var lo apikeyListOptions
	return &cli.Command{
		Name:  "apikey",
		Usage: "create, list and remove the API keys of 'megasend serve'",
		UsageText: `megasend apikey add NAME [--account ACCOUNT]
megasend apikey list [--json]
megasend apikey rm NAME`,
		Subcommands: []*cli.Command{
			{
				Name:      "add",
				Usage:     "create a key for an account and print it, this once",
				ArgsUsage: "NAME [--account ACCOUNT]",
				Description: "The key acts for the account --account names, or the one other commands use without it\n" +
					"(default_account, or the configuration's only account). It is printed once, as the last line\n" +
					"of stdout ('tail -1' takes it); the database keeps only its hash, so a lost key cannot be\n" +
					"shown again: remove it and add another. NAME is 1 to 64 letters, digits, '.', '_' or '-'.",
				Action: func(c *cli.Context) error {
					name, err := apikeyName(c)
					if err != nil {
						return err
					}
					return a.runAPIKeyAdd(c.Context, name)
				},
			},
			{
				Name:  "list",
				Usage: "list the keys: name, account, when created and last used (never a key)",
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: flgJSON, Usage: "print a JSON array", Destination: &lo.json},
				},
				Action: func(c *cli.Context) error {
					args, err := parseInterleaved(c, &lo)
					if err != nil {
						return err
					}
					if len(args) > 0 {
						return usageErrorf("apikey list: unexpected argument %q", args[0])
					}
					return a.runAPIKeyList(c.Context, lo)
				},
			},
			{
				Name:      "rm",
				Usage:     "remove a key: requests made with it are refused from then on",
				ArgsUsage: "NAME",
				Action: func(c *cli.Context) error {
					name, err := apikeyName(c)
					if err != nil {
						return err
					}
					return a.runAPIKeyRm(c.Context, name)
				},
			},
		},
	}
}

// apikeyName returns the one argument of apikey add or rm, the key's name.
// Neither has flags of its own (--account is global, and normalizeArgs has
// moved it in front of the command), so anything else that looks like a
// flag is an unknown one, wherever it is.
func apikeyName(c *cli.Context) (string, error) {
	var args []string
	for _, arg := range c.Args().Slice() {
		if len(arg) > 1 && arg[0] == '-' {
			fs := flag.NewFlagSet(c.Command.Name, flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			return "", usageError(explainUsage(c, fs.Parse([]string{arg})))
		}
		args = append(args, arg)
	}
	switch {
	case len(args) == 0:
		return "", usageErrorf("apikey %s: missing key name; usage: megasend apikey %s %s", c.Command.Name, c.Command.Name, c.Command.ArgsUsage)
	case len(args) > 1:
		return "", usageErrorf("apikey %s: unexpected argument %q", c.Command.Name, args[1])
	}
	return args[0], nil
}

// runAPIKeyAdd creates the key called name for the account other commands
// would use, and prints it.
func (a *app) runAPIKeyAdd(ctx context.Context, name string) error {
	if err := apikey.CheckName(name); err != nil {
		return usageErrorf("apikey add: %w", err)
	}
	cr, err := a.credentials()
	if err != nil {
		return err
	}
	db, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	key, err := apikey.NewKeys(db).Add(ctx, name, cr.Name)
	if errors.Is(err, store.ErrExists) {
		return usageErrorf("apikey add: there is a key called %q already; remove it first ('megasend apikey rm %s') or choose another name",
			name, name)
	}
	if err != nil {
		return err
	}
	a.tell("added API key %s for account %s", name, cr.Name)
	fmt.Fprintf(a.streams.Err, "the key is shown only this once (the database keeps only its hash): store it now\n")
	// Straight to stdout, even with --log-format json: it is the output.
	_, err = fmt.Fprintln(a.streams.Out, key)
	return err
}

// apikeyJSON is one element of apikey list --json.
type apikeyJSON struct {
	Name       string     `json:"name"`
	Account    string     `json:"account"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"` // null: never used
}

// runAPIKeyList prints the stored keys.
func (a *app) runAPIKeyList(ctx context.Context, o apikeyListOptions) error {
	db, err := a.openStoreToRead(ctx)
	path, missing := noStore(err)
	if err != nil && !missing {
		return err
	}
	var keys []store.APIKey
	if !missing {
		defer db.Close()
		path = db.Path()
		if keys, err = apikey.NewKeys(db).List(ctx); err != nil {
			return err
		}
	}
	if o.json {
		list := make([]apikeyJSON, 0, len(keys))
		for _, k := range keys {
			j := apikeyJSON{Name: k.Name, Account: k.Account, CreatedAt: k.CreatedAt}
			if !k.LastUsedAt.IsZero() {
				j.LastUsedAt = &k.LastUsedAt
			}
			list = append(list, j)
		}
		return a.writeOutput("", func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			return enc.Encode(list)
		})
	}
	if len(keys) == 0 {
		fmt.Fprintf(a.streams.Err, "no API keys in %s yet; create one with 'megasend apikey add NAME'\n", path)
		return nil
	}
	return a.writeOutput("", func(w io.Writer) error {
		var tb table
		tb.add("NAME", "ACCOUNT", "CREATED", "LAST USED")
		for _, k := range keys {
			tb.add(k.Name, k.Account, fmtTime(k.CreatedAt), fmtTime(k.LastUsedAt))
		}
		return tb.write(w, "")
	})
}

// runAPIKeyRm removes the key called name.
func (a *app) runAPIKeyRm(ctx context.Context, name string) error {
	db, err := a.openStoreToRead(ctx)
	if path, ok := noStore(err); ok {
		return usageErrorf("no API key %q: there is no database at %s", name, path)
	}
	if err != nil {
		return err
	}
	defer db.Close()
	err = apikey.NewKeys(db).Remove(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return usageErrorf("no API key %q; see 'megasend apikey list'", name)
	}
	if err != nil {
		return err
	}
	a.tell("removed API key %s: requests made with it are refused from now on", name)
	return nil
}
