package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/megasend/megasend/campaign"
	"github.com/megasend/megasend/wechat"
)

// configCheckOptions are the parsed flags of megasend config check.
type configCheckOptions struct {
	offline bool
	sandbox bool
}

func (a *app) configCommand() *cli.Command {
	var o configCheckOptions
	check := &cli.Command{
		Name:  "check",
		Usage: "show the effective configuration (secrets masked) and test the credentials",
		UsageText: `megasend config check [--offline] [--sandbox]

Shows which configuration file, database and account are used and where each
value comes from, then fetches an access token to prove the credentials work.
The app secret and the token are never printed.`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: flgOffline, Usage: "do not contact WeChat; only show the configuration", Destination: &o.offline},
			&cli.BoolFlag{Name: flgSandbox, Usage: "fetch the token from a simulated WeChat API in-process", Destination: &o.sandbox},
		},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error { return usageError(err) },
		Action: func(c *cli.Context) error {
			args, err := parseInterleaved(c, &o)
			if err != nil {
				return err
			}
			if len(args) > 0 {
				return usageErrorf("config check: unexpected argument %q", args[0])
			}
			return a.runConfigCheck(c.Context, o)
		},
	}
	return &cli.Command{
		Name:        "config",
		Usage:       "inspect megasend's configuration",
		Subcommands: []*cli.Command{check},
	}
}

// runConfigCheck prints the effective configuration and, unless offline,
// fetches a token with it. A token WeChat refuses is a configuration error
// (exit 2) explained by its errcode; WeChat out of reach is exit 1.
func (a *app) runConfigCheck(ctx context.Context, o configCheckOptions) error {
	cr, err := a.credentials()
	if err != nil {
		return err
	}
	cfg, err := a.loadConfig() // cached: the db path
	if err != nil {
		return err
	}
	dbPath, err := a.resolveDBPath(cfg.DB)
	if err != nil {
		dbPath = "none (" + err.Error() + ")"
	}
	acc := cfg.Accounts[cr.Name]
	w := a.streams.Out
	tw := tabwriter.NewWriter(w, configKeyWidth, 0, 2, ' ', 0)
	row := func(key, value, origin string) {
		if origin != "" {
			value += "  (" + origin + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\n", key, value)
	}
	cfgPath := "none"
	if cfg.path != "" {
		cfgPath = absPath(cfg.path)
	}
	row("config", cfgPath, "")
	row("database", dbPath, "")
	row("account", cr.Name, a.accountOrigin(cfg))
	row("app_id", orDefault(cr.AppID, "not set"), a.origin(envAppID, acc.AppID != "", "config file"))
	row("app_secret", maskSecret(cr.AppSecret), a.secretOrigin(acc))
	row("api_base", maskURL(orDefault(cr.APIBase, wechat.DefaultBaseURL)), a.origin(envAPIBase, acc.APIBase != "", "config file"))
	row("token_source", tokenSourceText(cr.TokenSource), "")
	row("rate", rateText(cr.Rate), "")
	conc := fmt.Sprint(cr.Concurrency)
	if cr.Concurrency == 0 {
		conc = "32 (default)"
	}
	row("concurrency", conc, "")
	row("quiet_hours", orDefault(cr.QuietHours.String(), "none"), "")
	row("cap", orDefault(cr.Cap.String(), "none"), "")
	// Whether serve can check WeChat's pushes, never the values: the token
	// and key forge and read them.
	cbToken := maskSecret(cr.CallbackToken)
	if cr.CallbackToken == "" {
		cbToken = "not set (serve receives no delivery receipts)"
	}
	row("callback_token", cbToken, secretSetOrigin(a, envCallbackToken, cr.CallbackToken, acc.CallbackToken))
	aesKey := maskSecret(cr.EncodingAESKey)
	if cr.EncodingAESKey == "" && cr.CallbackToken != "" {
		aesKey = "not set (plain mode)"
	}
	row("encoding_aes_key", aesKey, secretSetOrigin(a, envEncodingAESKey, cr.EncodingAESKey, acc.EncodingAESKey))
	if err := tw.Flush(); err != nil {
		return err
	}

	switch {
	case o.offline:
		checkLine(w, "token", "not checked (--offline)")
		return checkCredentials(cr, o.sandbox)
	case o.sandbox:
		checkLine(w, "sandbox", "the in-process simulated WeChat API stands in for the account")
	}
	client, stop, err := a.newWeChat(cr, nil, o.sandbox, 1)
	if err != nil {
		return redact(err, cr.AppSecret)
	}
	defer stop()
	if _, err := client.Token(ctx); err != nil {
		checkLine(w, "token", "FAILED")
		return redact(campaign.CredentialError(err), cr.AppSecret)
	}
	checkLine(w, "token", "ok (fetched; not shown)")
	return nil
}

// configKeyWidth is the width of config check's first column: its longest
// key, encoding_aes_key, and two spaces.
const configKeyWidth = len("encoding_aes_key") + 2

// checkLine prints a line of config check outside its table, aligned with it.
func checkLine(w io.Writer, key, value string) {
	fmt.Fprintf(w, "%-*s%s\n", configKeyWidth, key, value)
}

// maskSecret never shows any part of a secret, not even its length.
func maskSecret(s string) string {
	if s == "" {
		return "not set"
	}
	return "****"
}

// maskURL hides a password in a URL's user information.
func maskURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	return u.Redacted()
}

// origin says where a value came from: the environment variable env if it
// is set, else the configuration file if inFile.
func (a *app) origin(env string, inFile bool, file string) string {
	switch {
	case a.streams.getenv(env) != "":
		return "env " + env
	case inFile:
		return file
	}
	return "default"
}

// secretOrigin follows resolveAccount's precedence for the app secret.
func (a *app) secretOrigin(acc Account) string {
	switch {
	case a.streams.getenv(envAppSecret) != "":
		return "env " + envAppSecret
	case acc.AppSecretFile != "":
		return "app_secret_file " + acc.AppSecretFile
	case acc.AppSecretEnv != "":
		if a.streams.getenv(acc.AppSecretEnv) == "" {
			return "app_secret_env " + acc.AppSecretEnv + ", which is empty"
		}
		return "app_secret_env " + acc.AppSecretEnv
	case acc.AppSecret != "":
		return "config file"
	}
	return ""
}

// secretSetOrigin says where a set callback secret came from: env, which
// wins, or the configuration file; "" for one not set.
func secretSetOrigin(a *app, env, value, inFile string) string {
	switch {
	case value == "":
		return ""
	case a.streams.getenv(env) != "":
		return "env " + env
	case inFile != "":
		return "config file"
	}
	return ""
}

// accountOrigin says how the account was chosen.
func (a *app) accountOrigin(cfg Config) string {
	switch {
	case a.account != "" && a.account == a.streams.getenv(envAccount):
		return "env " + envAccount
	case a.account != "":
		return "--" + flgAccount
	case cfg.DefaultAccount != "":
		return "default_account"
	case len(cfg.Accounts) == 1:
		return "the only account configured"
	}
	return "no accounts configured"
}

// tokenSourceText shows the token source without a command's text, which
// may carry credentials of its own.
func tokenSourceText(s string) string {
	switch {
	case s == "":
		return "stable (default)"
	case isCommandSource(s):
		return "command (not shown)"
	}
	return s
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// redact replaces every occurrence of secret in err's text with ****, keeping
// err's exit code. WeChat's answers do not echo the secret; this makes sure.
func redact(err error, secret string) error {
	if err == nil || len(secret) < 4 || !strings.Contains(err.Error(), secret) {
		return err
	}
	clean := errors.New(strings.ReplaceAll(err.Error(), secret, "****"))
	return withCode(exitCode(err), clean)
}

func rateText(r float64) string {
	if r <= 0 {
		return "unlimited"
	}
	return fmt.Sprintf("%g/s", r)
}

// absPath is p made absolute, so that what config check shows holds from
// any directory.
func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
