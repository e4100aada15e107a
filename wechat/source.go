package wechat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"time"
)

// stableSource fetches with POST /cgi-bin/stable_token in normal mode, which
// returns the same token while it is valid and never invalidates a token
// another process holds. force_refresh is never sent: it is limited to 20 a
// day and would break every other holder.
type stableSource struct {
	c             *Client
	appID, secret string
}

func (s *stableSource) FetchToken(ctx context.Context) (Token, error) {
	const op = "stable_token"
	body, err := postJSON(map[string]any{
		"grant_type": "client_credential", "appid": s.appID, "secret": s.secret, "force_refresh": false,
	})
	if err != nil {
		return Token{}, err
	}
	var r tokenResponse
	if err := s.c.do(ctx, op, http.MethodPost, "/cgi-bin/stable_token", "", body, &r); err != nil {
		return Token{}, err
	}
	return r.token(op, s.c.now())
}

// classicSource fetches with GET /cgi-bin/token. Every call supersedes the
// previous token after five minutes, including tokens other systems hold,
// so it is opt-in.
type classicSource struct {
	c             *Client
	appID, secret string
}

func (s *classicSource) FetchToken(ctx context.Context) (Token, error) {
	const op = "token"
	q := url.Values{"grant_type": {"client_credential"}, "appid": {s.appID}, "secret": {s.secret}}
	var r tokenResponse
	if err := s.c.do(ctx, op, http.MethodGet, "/cgi-bin/token", q.Encode(), nil, &r); err != nil {
		return Token{}, err
	}
	return r.token(op, s.c.now())
}

// commandTokenTTL is how long a token printed bare by a command is trusted
// before the command is asked again; a rejection asks again at once.
const commandTokenTTL = 5 * time.Minute

// commandSource runs a command that prints the token, for companies whose
// central token server (中控服务器) owns it. The command prints either the
// bare token or JSON {"access_token": "...", "expires_in": N}.
type commandSource struct {
	command string
	now     func() time.Time
}

func (s *commandSource) FetchToken(ctx context.Context) (Token, error) {
	cmd := exec.CommandContext(ctx, "sh", "-c", s.command)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		// The command's stderr is the user's own; its first line helps, and it
		// is not the token (which goes to stdout).
		first, _, _ := strings.Cut(strings.TrimSpace(stderr.String()), "\n")
		return Token{}, fmt.Errorf("token command: %w: %s", err, first)
	}
	out = bytes.TrimSpace(out)
	if len(out) == 0 {
		return Token{}, errors.New("token command printed nothing")
	}
	if out[0] == '{' {
		var r tokenResponse
		if err := json.Unmarshal(out, &r); err != nil {
			return Token{}, errors.New("token command printed JSON without access_token and expires_in")
		}
		return r.token("token command", s.now())
	}
	line, _, _ := bytes.Cut(out, []byte("\n"))
	now := s.now()
	return Token{Value: string(bytes.TrimSpace(line)), IssuedAt: now, ExpiresAt: now.Add(commandTokenTTL)}, nil
}
