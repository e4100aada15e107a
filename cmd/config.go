package cmd

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/megasend/megasend/policy"
	"github.com/megasend/megasend/recipient"
)

// Config is megasend's TOML configuration file.
type Config struct {
	// DB is the database file; --db and MEGASEND_DB override it.
	DB string `toml:"db"`
	// DefaultAccount names the account used without --account.
	DefaultAccount string `toml:"default_account"`
	// Accounts are the WeChat service accounts, by name.
	Accounts map[string]Account `toml:"accounts"`
	// MetricsPublic opens serve's /metrics to every client, as
	// --metrics-public does; otherwise loopback clients only.
	MetricsPublic bool `toml:"metrics_public"`

	path string // where it was read from; empty for none
}

// Account is one [accounts.NAME] table.
type Account struct {
	AppID         string  `toml:"app_id"`
	AppSecret     string  `toml:"app_secret"`
	AppSecretEnv  string  `toml:"app_secret_env"`
	AppSecretFile string  `toml:"app_secret_file"`
	APIBase       string  `toml:"api_base"`
	TokenSource   string  `toml:"token_source"` // stable (default), classic, command:...
	Rate          float64 `toml:"rate"`         // messages per second; 0 means the default
	Concurrency   int     `toml:"concurrency"`
	// Timeout bounds one API request, e.g. "15s" (the default).
	Timeout duration `toml:"timeout"`
	// OpenIDCheck is "strict" (the default: WeChat's 28 characters) or
	// "loose", for an account whose openids differ.
	OpenIDCheck recipient.OpenIDCheck `toml:"openid_check"`
	// CallbackToken is the token WeChat signs its pushes to the account's
	// callback URL with (serve); EncodingAESKey, set, is safe mode's key.
	CallbackToken  string `toml:"callback_token"`
	EncodingAESKey string `toml:"encoding_aes_key"`
	// QuietHours is a daily window in which nothing is sent ("22:00-08:00"),
	// read in TimeZone (an IANA name; default Asia/Shanghai).
	QuietHours string `toml:"quiet_hours"`
	TimeZone   string `toml:"timezone"`
	// Cap is the account's frequency cap ("1/24h", "3/7d"): at most N
	// messages to one person within the duration, from the ledger.
	Cap policy.Cap `toml:"cap"`
}

// duration is a time.Duration written in TOML as a string such as "15s".
type duration struct{ time.Duration }

func (d *duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// ReadConfigFile decodes path strictly: unknown keys are an error naming them,
// so a misspelt app_secret is caught rather than silently ignored.
func ReadConfigFile(path string) (Config, error) {
	var c Config
	md, err := toml.DecodeFile(path, &c)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return Config{}, fmt.Errorf("config %s: unknown keys: %s", path, strings.Join(keys, ", "))
	}
	c.path = path
	return c, nil
}

// loadConfig finds and reads the configuration once per invocation. Search
// order: --config / MEGASEND_CONFIG (must exist), ./megasend.toml, then
// megasend/config.toml in the user's config directory. No file is fine.
func (a *app) loadConfig() (Config, error) {
	if a.cfg != nil {
		return *a.cfg, nil
	}
	var cfg Config
	path, explicit := a.configPath, a.configPath != ""
	if !explicit {
		path = a.findConfig()
	}
	if path != "" {
		path = expandHome(path, a.streams.getenv("HOME"))
		c, err := ReadConfigFile(path)
		switch {
		case err == nil:
			cfg = c
			a.warnReadableSecret(path, c)
		case !explicit && errors.Is(err, fs.ErrNotExist):
		default:
			return Config{}, usageError(err)
		}
	}
	a.cfg = &cfg
	return cfg, nil
}

func (a *app) findConfig() string {
	if _, err := os.Stat("megasend.toml"); err == nil {
		return "megasend.toml"
	}
	dir := a.streams.getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home := a.streams.getenv("HOME")
		if home == "" {
			return ""
		}
		dir = filepath.Join(home, ".config")
	}
	p := filepath.Join(dir, "megasend", "config.toml")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return ""
}

// warnReadableSecret warns when a file holding an app secret can be read by
// other users of the machine: the configuration with an inline app_secret,
// or an account's app_secret_file.
func (a *app) warnReadableSecret(path string, c Config) {
	holds := false
	for _, acc := range c.Accounts {
		holds = holds || acc.AppSecret != "" || acc.CallbackToken != "" || acc.EncodingAESKey != ""
	}
	if holds && readableByOthers(path) {
		a.log.Warn("config file holds an app secret and is readable by others; run chmod 600", "file", path)
	}
	names := make([]string, 0, len(c.Accounts))
	for name := range c.Accounts {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if f := c.Accounts[name].AppSecretFile; f != "" && readableByOthers(expandHome(f, a.streams.getenv("HOME"))) {
			a.log.Warn("app_secret_file is readable by others; run chmod 600", "account", name, "file", f)
		}
	}
}

// readableByOthers reports whether the file at path exists and its group or
// other users may read it.
func readableByOthers(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().Perm()&0o044 != 0
}

// credentials is the effective account after file, environment and flags.
type credentials struct {
	Name        string
	AppID       string
	AppSecret   string
	APIBase     string
	TokenSource string
	Rate        float64
	Concurrency int
	Timeout     time.Duration
	OpenIDCheck recipient.OpenIDCheck
	// CallbackToken and EncodingAESKey check the pushes WeChat posts to
	// serve's callback URL: secrets, like AppSecret.
	CallbackToken  string
	EncodingAESKey string
	// QuietHours are the account's (quiet_hours, timezone); TimeZone is
	// the zone a --quiet-hours flag is read in.
	QuietHours policy.QuietHours
	TimeZone   string
	// Cap is the account's frequency cap (cap); zero: none.
	Cap policy.Cap

	configPath string // the file the account came from, for messages
	inConfig   bool   // the account is a table in that file
	// secretEnv and secretFile are where the file says the secret is
	// (app_secret_env, app_secret_file), for messages when it is not.
	secretEnv, secretFile string
}

// credentials loads the configuration and resolves the account: what every
// command that talks to WeChat starts with.
func (a *app) credentials() (credentials, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return credentials{}, err
	}
	return a.resolveAccount(cfg)
}

// resolveAccount picks the account (--account, default_account, the only one)
// and overlays the environment. A named account that does not exist is a
// usage error.
func (a *app) resolveAccount(cfg Config) (credentials, error) {
	name := a.account
	if name == "" {
		name = cfg.DefaultAccount
	}
	if name == "" && len(cfg.Accounts) == 1 {
		for n := range cfg.Accounts {
			name = n
		}
	}
	if name == "" && len(cfg.Accounts) > 1 && a.streams.getenv(envAppID) == "" {
		return credentials{}, usageErrorf("%s configures %d accounts (%s) and no default_account: choose one with --account NAME, or set default_account",
			cfg.path, len(cfg.Accounts), accountNames(cfg))
	}
	acc, ok := cfg.Accounts[name]
	if name != "" && !ok && (a.account != "" || cfg.DefaultAccount != "") {
		where := "--account"
		if a.account == "" {
			where = "default_account in " + cfg.path
		} else if cfg.path != "" {
			where += " (configuration " + cfg.path + ")"
		}
		return credentials{}, usageErrorf("unknown account %q (configured: %s), named by %s", name, accountNames(cfg), where)
	}
	if name == "" {
		name = "default"
	}
	switch {
	case acc.Rate < 0:
		return credentials{}, usageErrorf("account %s: rate %g in %s: want 0 (as fast as the workers go) or more", name, acc.Rate, cfg.path)
	case acc.Concurrency < 0:
		return credentials{}, usageErrorf("account %s: concurrency %d in %s: want 1 or more (0 or absent: 32)", name, acc.Concurrency, cfg.path)
	case acc.Timeout.Duration < 0:
		return credentials{}, usageErrorf("account %s: timeout %q in %s: want a positive duration such as \"15s\"", name, acc.Timeout.Duration, cfg.path)
	}
	quiet, err := policy.ParseQuietHours(acc.QuietHours, acc.TimeZone)
	if err != nil {
		return credentials{}, usageErrorf("account %s: quiet_hours/timezone in %s: %w", name, cfg.path, err)
	}
	cr := credentials{
		QuietHours: quiet, TimeZone: acc.TimeZone, Cap: acc.Cap,
		Name: name, configPath: cfg.path, inConfig: ok, AppID: acc.AppID, AppSecret: acc.AppSecret, APIBase: acc.APIBase,
		TokenSource: acc.TokenSource, Rate: acc.Rate, Concurrency: acc.Concurrency, Timeout: acc.Timeout.Duration,
		secretEnv: acc.AppSecretEnv, secretFile: acc.AppSecretFile,
		OpenIDCheck: acc.OpenIDCheck, CallbackToken: acc.CallbackToken, EncodingAESKey: acc.EncodingAESKey,
	}
	if acc.AppSecretEnv != "" {
		cr.AppSecret = a.streams.getenv(acc.AppSecretEnv)
	}
	if acc.AppSecretFile != "" {
		b, err := os.ReadFile(expandHome(acc.AppSecretFile, a.streams.getenv("HOME")))
		if err != nil {
			return credentials{}, usageErrorf("account %s: app_secret_file: %w", name, err)
		}
		cr.AppSecret = strings.TrimSpace(string(b))
	}
	if v := a.streams.getenv(envAppID); v != "" {
		cr.AppID = v
	}
	if v := a.streams.getenv(envAppSecret); v != "" {
		cr.AppSecret = v
	}
	if v := a.streams.getenv(envAPIBase); v != "" {
		cr.APIBase = v
	}
	if v := a.streams.getenv(envCallbackToken); v != "" {
		cr.CallbackToken = v
	}
	if v := a.streams.getenv(envEncodingAESKey); v != "" {
		cr.EncodingAESKey = v
	}
	return cr, nil
}

func accountNames(cfg Config) string {
	if len(cfg.Accounts) == 0 {
		return "none"
	}
	names := make([]string, 0, len(cfg.Accounts))
	for n := range cfg.Accounts {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
