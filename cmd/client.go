package cmd

import (
	"context"
	"errors"

	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/template"
	"github.com/megasend/megasend/wechat"
	"github.com/megasend/megasend/wechat/wechattest"
)

// errNoCredentials explains how to configure an account, and that the
// sandbox needs none.
var errNoCredentials = errors.New(`no WeChat credentials: set app_id and app_secret under [accounts.NAME] in megasend.toml
(or MEGASEND_APP_ID and MEGASEND_APP_SECRET), or try megasend without an account: add --sandbox`)

// newWeChat builds the client a command talks to: the account's, or with
// sandbox a simulated WeChat API started in-process. The returned func
// releases what was started.
func (a *app) newWeChat(cr credentials, db *store.DB, sandbox bool, maxConns int) (*wechat.Client, func(), error) {
	cfg := wechat.Config{
		AppID: cr.AppID, AppSecret: cr.AppSecret, BaseURL: cr.APIBase, TokenSource: cr.TokenSource,
		MaxConns: maxConns, Timeout: cr.Timeout, Log: a.log,
	}
	if db != nil {
		cfg.Cache = db
	}
	stop := func() {}
	if sandbox {
		srv := wechattest.NewServer(wechattest.Options{})
		stop = srv.Close
		cfg.AppID, cfg.AppSecret, cfg.BaseURL, cfg.TokenSource = wechattest.DefaultAppID, wechattest.DefaultAppSecret, srv.URL, ""
		a.log.Info("sending to the in-process WeChat sandbox; nothing reaches WeChat")
	} else if err := checkCredentials(cr, false); err != nil {
		return nil, nil, err
	}
	c, err := wechat.New(cfg)
	if err != nil {
		stop()
		return nil, nil, usageErrorf("account %s: %w", cr.Name, err)
	}
	return c, stop, nil
}

// checkCredentials refuses, before anything is imported, an account that
// cannot possibly get a token.
func checkCredentials(cr credentials, sandbox bool) error {
	if sandbox || (cr.AppID != "" && (cr.AppSecret != "" || isCommandSource(cr.TokenSource))) {
		return nil
	}
	const orSandbox = "or try megasend without an account: add --sandbox"
	switch {
	case !cr.inConfig:
	case cr.AppID == "":
		return usageErrorf("account %s: [accounts.%s] in %s has no app_id; set it, or %s, %s",
			cr.Name, cr.Name, cr.configPath, envAppID, orSandbox)
	case cr.secretFile != "":
		// The file was read (resolveAccount refuses one it cannot read):
		// it holds nothing but white space.
		return usageErrorf("account %s: app_secret_file %s (in %s) is empty; put the app secret in it, or set %s, %s",
			cr.Name, cr.secretFile, cr.configPath, envAppSecret, orSandbox)
	case cr.secretEnv != "":
		return usageErrorf("account %s: environment variable %s is empty (app_secret_env in %s); set it to the app secret, or set %s, %s",
			cr.Name, cr.secretEnv, cr.configPath, envAppSecret, orSandbox)
	default:
		return usageErrorf("account %s: [accounts.%s] in %s has no app_secret (nor app_secret_env or app_secret_file); set one, or %s, %s",
			cr.Name, cr.Name, cr.configPath, envAppSecret, orSandbox)
	}
	return usageError(errNoCredentials)
}

func isCommandSource(s string) bool { return len(s) > 8 && s[:8] == "command:" }

// preflight proves the account before a dry run's end, as a run does
// before its first send (campaign.Preflight).
func (a *app) preflight(ctx context.Context, l *ledger, o campaignOptions, cr credentials, t *template.Template, pending int64) error {
	client, stop, err := a.newWeChat(cr, l.db, o.sandbox, o.concurrency)
	if err != nil {
		return err
	}
	defer stop()
	return l.svc.Preflight(ctx, client, t, pending)
}
