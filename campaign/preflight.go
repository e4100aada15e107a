package campaign

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/megasend/megasend/template"
	"github.com/megasend/megasend/wechat"
)

// ErrUnreachable marks WeChat out of reach before a run sent anything,
// however it is found: by the token fetch, by the other preflight calls
// when the token came from the cache, or by the first sends. Nothing of the
// run needs resuming. Its Error's Code is Unavailable.
var ErrUnreachable = errors.New("cannot reach WeChat before the first send")

// unreachable reports an error that proves nothing reached WeChat: no
// connection, no request written, no HTTP status.
func unreachable(err error) bool {
	var re *wechat.RequestError
	return errors.As(err, &re) && !re.Sent && re.Status == 0
}

// unavailable is the Error for WeChat out of reach before the first send.
func unavailable(err error) *Error {
	return &Error{Code: Unavailable, Msg: fmt.Sprintf("%v: %v", ErrUnreachable, err), Err: errors.Join(ErrUnreachable, err)}
}

// Preflight proves, before the first send, that WeChat can be reached and
// the access token had, and warns (through the service's log) when t's
// template_id is not among the account's or the daily quota will not cover
// pending messages. Errors: Invalid (WeChat refuses the account),
// Unavailable.
func (s *Service) Preflight(ctx context.Context, c *wechat.Client, t *template.Template, pending int64) error {
	if _, err := c.Token(ctx); err != nil {
		return TokenError(err)
	}
	// The two checks are independent: asked at once, they cost one round
	// trip to WeChat instead of two before the first send.
	var (
		wg            sync.WaitGroup
		list          []wechat.PrivateTemplate
		q             wechat.Quota
		listErr, qErr error
	)
	// The template list and the quota are template/send's: other kinds'
	// ids and limits are not among them, and only the call proves WeChat
	// reachable.
	id := t.TemplateID()
	isTemplate := t.Kind.OrDefault() == template.KindTemplate
	if !isTemplate {
		id = ""
	}
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
			return unavailable(err)
		}
	}
	switch {
	case id == "":
	case listErr != nil:
		s.log.Debug("cannot list the account's templates; template_id not checked", "err", listErr)
	case !hasTemplate(list, id):
		// Not a refusal: WeChat has been seen to leave category templates
		// out of this list. A wrong id stops the batch at its first send.
		s.log.Warn(fmt.Sprintf("template %s: template_id %s is not among the %d templates the account lists; if it is wrong the first send stops the batch (40037)",
			t.Key, id, len(list)))
	}
	switch {
	case !isTemplate:
	case qErr != nil:
		s.log.Debug("cannot read the daily quota", "err", qErr)
	case q.Remain < pending:
		s.log.Warn(fmt.Sprintf("daily quota: %d of %d left today; the batch will pause after about %d messages and can be resumed after midnight Beijing time",
			q.Remain, q.DailyLimit, q.Remain))
	}
	return nil
}

// CredentialError maps a failed token fetch: WeChat refusing the account is
// a configuration problem (Invalid); anything else is returned wrapped.
func CredentialError(err error) error {
	switch wechat.ClassOf(err) {
	case wechat.ClassFatal, wechat.ClassToken:
		meaning, advice := wechat.Describe(wechat.Errcode(err))
		return Errorf(Invalid, "cannot get an access token: %w (%s: %s)", err, meaning, advice)
	}
	return fmt.Errorf("cannot get an access token: %w", err)
}

// TokenError maps a failed token fetch before a send: as CredentialError
// does, and WeChat out of reach as Unavailable.
func TokenError(err error) error {
	if unreachable(err) {
		return unavailable(fmt.Errorf("cannot get an access token: %w", err))
	}
	return CredentialError(err)
}

func hasTemplate(list []wechat.PrivateTemplate, id string) bool {
	for _, p := range list {
		if p.TemplateID == id {
			return true
		}
	}
	return false
}
