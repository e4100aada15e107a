package wechat

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// The classes PRODUCT.md names for each errcode.
func TestClassify(t *testing.T) {
	tests := []struct {
		name  string
		class Class
		codes []int
	}{
		{"Transient", ClassTransient, []int{-1}},
		{"Token", ClassToken, []int{40001, 40014, 42001}},
		{"Rate", ClassRate, []int{45011}},
		{"Quota", ClassQuota, []int{45009}},
		{"Recipient", ClassRecipient, []int{40003, 43004, 43019, 43101, 47003, 48002, 50005, 43117}},
		{"Fatal", ClassFatal, []int{40037, 43116, 40164, 40125, 40013, 48001, 48004, 50004, 89503}},
		// Codes megasend does not know fail that one recipient.
		{"Unknown", ClassRecipient, []int{12345, 45065, 99999}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, code := range tt.codes {
				if got := Classify(code); got != tt.class {
					t.Errorf("Classify(%d) = %v, want %v", code, got, tt.class)
				}
			}
		})
	}

	t.Run("EveryKnownCode", func(t *testing.T) {
		for code, ci := range codes {
			if ci.class == ClassNone || ci.class > ClassFatal {
				t.Errorf("errcode %d has class %v", code, ci.class)
			}
			if got := Classify(code); got != ci.class {
				t.Errorf("Classify(%d) = %v, table says %v", code, got, ci.class)
			}
		}
	})
}

func TestDescribe(t *testing.T) {
	t.Run("EveryKnownCode", func(t *testing.T) {
		for code := range codes {
			meaning, advice := Describe(code)
			if meaning == "" || advice == "" {
				t.Errorf("Describe(%d) = %q, %q; want both", code, meaning, advice)
			}
		}
	})
	t.Run("Unknown", func(t *testing.T) {
		if meaning, advice := Describe(99999); meaning != "" || advice != "" {
			t.Errorf("Describe(99999) = %q, %q; want empty", meaning, advice)
		}
	})
}

func TestClass_String(t *testing.T) {
	tests := []struct {
		class Class
		want  string
	}{
		{ClassNone, "none"}, {ClassTransient, "transient"}, {ClassToken, "token"}, {ClassRate, "rate"},
		{ClassQuota, "quota"}, {ClassRecipient, "recipient"}, {ClassFatal, "fatal"}, {Class(42), "class(42)"},
	}
	for _, tt := range tests {
		if got := tt.class.String(); got != tt.want {
			t.Errorf("Class(%d).String() = %q, want %q", int(tt.class), got, tt.want)
		}
	}
}

// The predicates see through the wrapping callers add.
func TestPredicates(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("send to oXYZ: %w", fmt.Errorf("line 7: %w", err)) }
	tests := []struct {
		name          string
		err           error
		wantClass     Class
		wantCode      int
		wantAmbiguous bool
		wantRetryable bool
		wantExpired   bool
	}{
		{name: "Nil", err: nil, wantClass: ClassNone},
		{name: "Plain", err: errors.New("disk full"), wantClass: ClassNone},
		{name: "Cancelled", err: wrap(context.Canceled), wantClass: ClassNone},
		{name: "SystemError", err: wrap(apiError("message/template/send", -1, "system error")),
			wantClass: ClassTransient, wantCode: -1, wantRetryable: true},
		{name: "TokenExpired", err: wrap(apiError("message/template/send", 42001, "access_token expired")),
			wantClass: ClassToken, wantCode: 42001, wantRetryable: true, wantExpired: true},
		{name: "Rate", err: wrap(apiError("message/template/send", 45011, "slow down")),
			wantClass: ClassRate, wantCode: 45011, wantRetryable: true},
		{name: "Quota", err: wrap(apiError("message/template/send", 45009, "quota")),
			wantClass: ClassQuota, wantCode: 45009},
		{name: "Recipient", err: wrap(apiError("message/template/send", 43004, "require subscribe")),
			wantClass: ClassRecipient, wantCode: 43004},
		{name: "Fatal", err: wrap(apiError("message/template/send", 40037, "invalid template_id")),
			wantClass: ClassFatal, wantCode: 40037},
		{name: "RequestSent", err: wrap(&RequestError{Op: "message/template/send", Sent: true, Err: context.DeadlineExceeded}),
			wantClass: ClassTransient, wantCode: -1, wantAmbiguous: true, wantRetryable: true},
		{name: "RequestNotSent", err: wrap(&RequestError{Op: "message/template/send", Err: errors.New("connection refused")}),
			wantClass: ClassTransient, wantCode: -1, wantRetryable: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ClassOf(tt.err); got != tt.wantClass {
				t.Errorf("ClassOf = %v, want %v", got, tt.wantClass)
			}
			if got := Errcode(tt.err); got != tt.wantCode {
				t.Errorf("Errcode = %d, want %d", got, tt.wantCode)
			}
			if got := IsAmbiguous(tt.err); got != tt.wantAmbiguous {
				t.Errorf("IsAmbiguous = %v, want %v", got, tt.wantAmbiguous)
			}
			if got := IsRetryable(tt.err); got != tt.wantRetryable {
				t.Errorf("IsRetryable = %v, want %v", got, tt.wantRetryable)
			}
			if got := IsTokenExpired(tt.err); got != tt.wantExpired {
				t.Errorf("IsTokenExpired = %v, want %v", got, tt.wantExpired)
			}
		})
	}
}

func TestRequestError_Error(t *testing.T) {
	cause := errors.New("EOF")
	tests := []struct {
		name string
		err  *RequestError
		want string
	}{
		{name: "NoStatus", err: &RequestError{Op: "stable_token", Err: cause}, want: "stable_token: EOF"},
		{name: "Status", err: &RequestError{Op: "message/template/send", Status: 502, Err: errors.New("Bad Gateway")},
			want: "message/template/send: HTTP 502: Bad Gateway"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
	if !errors.Is(&RequestError{Err: cause}, cause) {
		t.Error("RequestError does not unwrap to its cause")
	}
}

func TestAPIError_Error(t *testing.T) {
	err := apiError("message/template/send", 43004, "require subscribe rid: 6630a1b2-1a2b3c4d-5e6f7a8b")
	want := "message/template/send: errcode 43004: require subscribe rid: 6630a1b2-1a2b3c4d-5e6f7a8b"
	if err.Error() != want || err.Class != ClassRecipient {
		t.Errorf("err = %q (%v), want %q (recipient)", err, err.Class, want)
	}
}

func TestRedactQuery(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "None", in: "dial tcp 127.0.0.1:80: connect: connection refused", want: "dial tcp 127.0.0.1:80: connect: connection refused"},
		{name: "Empty", in: "", want: ""},
		{name: "TokenAtEnd", in: "/cgi-bin/user/get?access_token=86_abc-DEF", want: "/cgi-bin/user/get?access_token=REDACTED"},
		{name: "TokenThenParam", in: "?access_token=86_abc&next_openid=o1", want: "?access_token=REDACTED&next_openid=o1"},
		{name: "TokenInQuotedURL", in: `Post "http://h/x?access_token=86_abc": EOF`, want: `Post "http://h/x?access_token=REDACTED": EOF`},
		{name: "TokenThenSpace", in: "access_token=86_abc timed out", want: "access_token=REDACTED timed out"},
		{name: "EmptyValue", in: "?access_token=&x=1", want: "?access_token=REDACTED&x=1"},
		{name: "Secret", in: "/cgi-bin/token?appid=wx1&grant_type=client_credential&secret=s3cr3t", want: "/cgi-bin/token?appid=wx1&grant_type=client_credential&secret=REDACTED"},
		{name: "Both", in: "?access_token=t1&secret=s1 and access_token=t2",
			want: "?access_token=REDACTED&secret=REDACTED and access_token=REDACTED"},
		{name: "Repeated", in: "access_token=a access_token=b access_token=c",
			want: "access_token=REDACTED access_token=REDACTED access_token=REDACTED"},
		{name: "ValueLooksLikeKey", in: "access_token=access_token=x", want: "access_token=REDACTED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := redactQuery(tt.in); got != tt.want {
				t.Errorf("redactQuery(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// clean drops the URL *url.Error prints and scrubs what is left, keeping
// the cause for errors.Is.
func TestClient_clean(t *testing.T) {
	c := &Client{redact: strings.NewReplacer("s3cr3t-app", "[app secret]")}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "URLError", err: &url.Error{Op: "Post", URL: "http://h/x?access_token=86_tok", Err: context.DeadlineExceeded},
			want: "context deadline exceeded"},
		{name: "TokenInText", err: fmt.Errorf("proxy said GET /x?access_token=86_tok then: %w", context.Canceled),
			want: "proxy said GET /x?access_token=REDACTED then: context canceled"},
		{name: "SecretInText", err: fmt.Errorf("bad secret s3cr3t-app: %w", context.Canceled),
			want: "bad secret [app secret]: context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.clean(tt.err)
			if got.Error() != tt.want {
				t.Errorf("clean = %q, want %q", got, tt.want)
			}
			var ue *url.Error
			if errors.As(got, &ue) {
				t.Error("the *url.Error survived")
			}
			if !errors.Is(got, context.DeadlineExceeded) && !errors.Is(got, context.Canceled) {
				t.Error("the cause is lost")
			}
		})
	}
}
