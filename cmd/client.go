package cmd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

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

// errUnreachable marks WeChat out of reach before the run sent anything.
// It is a runtime error (exit 1, as for the database), however it is
// found: by the token fetch, by the other preflight calls when the token
// came from the cache, or by the first sends. Nothing of the run needs
// resuming; a batch the user named stays for the same command to continue.
var errUnreachable = errors.New("cannot reach WeChat before the first send")

// unreachable reports an error that proves nothing reached WeChat: no
// connection, no request written, no HTTP status.
func unreachable(err error) bool {
	var re *wechat.RequestError
	return errors.As(err, &re) && !re.Sent && re.Status == 0
}

// preflight proves, before the first send, that WeChat can be reached and
// the token had, and warns when the template is not listed on the account
// or the daily quota will not cover the batch.
func preflight(ctx context.Context, c *wechat.Client, t *template.Template, pending int64, log *slog.Logger) error {
	if _, err := c.Token(ctx); err != nil {
		return tokenError(err)
	}
	// The two checks are independent: asked at once, they cost one round
	// trip to WeChat instead of two before the first send.
	var (
		wg            sync.WaitGroup
		list          []wechat.PrivateTemplate
		q             wechat.Quota
		listErr, qErr error
	)
	id := t.TemplateID()
	if id != "" {
		wg.Go(func() { list, listErr = c.PrivateTemplates(ctx) })
	}
	wg.Go(func() { q, qErr = c.TemplateSendQuota(ctx) })
	wg.Wait()
	// A token from the cache proves nothing about the network; these two
	// calls do. Without them, an unreachable WeChat would be found only by
	// the first sends' retries, seconds later, as a paused batch.
	for _, err := range []error{listErr, qErr} {
		if unreachable(err) {
			return fmt.Errorf("%w: %w", errUnreachable, err)
		}
	}
	switch {
	case id == "":
	case listErr != nil:
		log.Debug("cannot list the account's templates; template_id not checked", "err", listErr)
	case !hasTemplate(list, id):
		// Not a refusal: WeChat has been seen to leave category templates
		// out of this list. A wrong id stops the batch at its first send.
		log.Warn(fmt.Sprintf("template %s: template_id %s is not among the %d templates the account lists; if it is wrong the first send stops the batch (40037)",
			t.Key, id, len(list)))
	}
	switch {
	case qErr != nil:
		log.Debug("cannot read the daily quota", "err", qErr)
	case q.Remain < pending:
		log.Warn(fmt.Sprintf("daily quota: %d of %d left today; the batch will pause after about %d messages and can be resumed after midnight Beijing time",
			q.Remain, q.DailyLimit, q.Remain))
	}
	return nil
}

// credentialError maps a failed token fetch: WeChat refusing the account is
// a configuration problem (exit 2); not reaching WeChat is a runtime one.
func credentialError(err error) error {
	switch wechat.ClassOf(err) {
	case wechat.ClassFatal, wechat.ClassToken:
		meaning, advice := wechat.Describe(wechat.Errcode(err))
		return usageErrorf("cannot get an access token: %w (%s: %s)", err, meaning, advice)
	}
	return fmt.Errorf("cannot get an access token: %w", err)
}

// tokenError maps a failed token fetch before a send: as credentialError
// does, and WeChat out of reach as errUnreachable.
func tokenError(err error) error {
	if unreachable(err) {
		return fmt.Errorf("%w: cannot get an access token: %w", errUnreachable, err)
	}
	return credentialError(err)
}

func hasTemplate(list []wechat.PrivateTemplate, id string) bool {
	for _, p := range list {
		if p.TemplateID == id {
			return true
		}
	}
	return false
}
