package cmd

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/megasend/megasend/wechat/wechattest"
)

// runCLIEnv runs megasend in-process with the environment env.
func runCLIEnv(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	s := Streams{In: strings.NewReader(""), Out: &out, Err: &errOut, Getenv: func(k string) string { return env[k] }}
	code := Main(context.Background(), append([]string{"megasend"}, args...), s, nil)
	return code, out.String(), errOut.String()
}

func TestConfigCheck(t *testing.T) {
	srv := wechattest.NewServer(wechattest.Options{})
	defer srv.Close()
	const secret = wechattest.DefaultAppSecret
	env := func(secret string) map[string]string {
		return map[string]string{
			envDB: filepath.Join(t.TempDir(), "m.db"), envAPIBase: srv.URL,
			envAppID: wechattest.DefaultAppID, envAppSecret: secret,
		}
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		out  string // in stdout
		err  string // in stderr
	}{
		{"OK", env(secret), nil, exitOK, "token             ok", ""},
		{"WrongSecret", env("wrong-secret"), nil, exitUsage, "token             FAILED", "errcode 40125"},
		{"Offline", env("wrong-secret"), []string{"--offline"}, exitOK, "not checked (--offline)", ""},
		{"NoCredentials", map[string]string{envDB: filepath.Join(t.TempDir(), "m.db")}, nil, exitUsage, "app_secret        not set", "no WeChat credentials"},
		{"Sandbox", map[string]string{envDB: filepath.Join(t.TempDir(), "m.db")}, []string{"--sandbox"}, exitOK, "token             ok", ""},
		{"Unreachable", map[string]string{envAPIBase: "http://127.0.0.1:1", envAppID: "wx1", envAppSecret: "s3cret-value"}, nil,
			exitRuntime, "token             FAILED", "cannot get an access token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLIEnv(t, tt.env, append([]string{"config", "check"}, tt.args...)...)
			if code != tt.code || !strings.Contains(stdout, tt.out) || !strings.Contains(stderr, tt.err) {
				t.Errorf("exit %d\nstdout %s\nstderr %s\nwant exit %d, %q and %q", code, stdout, stderr, tt.code, tt.out, tt.err)
			}
			for _, s := range []string{secret, "wrong-secret", "s3cret-value"} {
				if strings.Contains(stdout+stderr, s) {
					t.Errorf("output shows the secret %q:\n%s%s", s, stdout, stderr)
				}
			}
		})
	}

	t.Run("UnknownAccount", func(t *testing.T) {
		code, _, stderr := runCLIEnv(t, env(secret), "--account", "nope", "config", "check")
		if code != exitUsage || !strings.Contains(stderr, `unknown account "nope"`) {
			t.Errorf("exit %d, %q; want 2 and unknown account", code, stderr)
		}
	})
}

func TestMaskSecret(t *testing.T) {
	for _, s := range []string{"a", "abcd", "sandbox-secret-not-for-production"} {
		if got := maskSecret(s); got != "****" {
			t.Errorf("maskSecret(%q) = %q; want ****", s, got)
		}
	}
	if got := maskSecret(""); got != "not set" {
		t.Errorf("maskSecret(\"\") = %q", got)
	}
}

func TestRedact(t *testing.T) {
	err := redact(usageErrorf("token: bad secret topsecret123 given"), "topsecret123")
	if exitCode(err) != exitUsage || err.Error() != "token: bad secret **** given" {
		t.Errorf("got %v (exit %d)", err, exitCode(err))
	}
	plain := errors.New("no secret here")
	if got := redact(plain, "topsecret123"); got != plain {
		t.Errorf("got %v; want the error unchanged", got)
	}
	if got := redact(plain, ""); got != plain {
		t.Errorf("empty secret: got %v", got)
	}
}

func TestTokenSourceText(t *testing.T) {
	tests := map[string]string{
		"":                                  "stable (default)",
		"classic":                           "classic",
		"command:curl -H 'X-Key: abc' host": "command (not shown)",
	}
	for in, want := range tests {
		if got := tokenSourceText(in); got != want {
			t.Errorf("tokenSourceText(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestMaskURL(t *testing.T) {
	tests := map[string]string{
		"https://api.weixin.qq.com":          "https://api.weixin.qq.com",
		"http://proxy:s3cret@127.0.0.1:8080": "http://proxy:xxxxx@127.0.0.1:8080",
		"http://user@host":                   "http://user@host",
	}
	for in, want := range tests {
		if got := maskURL(in); got != want {
			t.Errorf("maskURL(%q) = %q; want %q", in, got, want)
		}
	}
}
