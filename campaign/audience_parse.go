package campaign

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/megasend/megasend/recipient"
)

// Audience is who a batch built from the account's followers is sent to:
// every follower, or the followers carrying one tag.
type Audience struct {
	// Tag is the tag as the request named it (after "tag:"): a name, or
	// a decimal id. "" means every follower.
	Tag string
}

// Followers reports whether a is every follower of the account.
func (a Audience) Followers() bool { return a.Tag == "" }

// String is the audience as --audience spells it.
func (a Audience) String() string {
	if a.Followers() {
		return "followers"
	}
	return "tag:" + a.Tag
}

// maxTagName bounds a tag name: WeChat's own limit is 30 characters; a
// little room is left for names made before it tightened.
const maxTagName = 64

// ParseAudience reads an audience: "followers", "tag:NAME" or "tag:ID".
// An id is a decimal number; which tag it means is settled against the
// account's tags (wechat.LookupTag). Errors are Invalid, with field
// "audience".
func ParseAudience(s string) (Audience, error) {
	bad := func(why string) (Audience, error) {
		return Audience{}, &Error{Code: Invalid, Field: "audience",
			Msg: fmt.Sprintf("audience %q: %s", s, why)}
	}
	if s == "followers" {
		return Audience{}, nil
	}
	name, ok := strings.CutPrefix(s, "tag:")
	switch {
	case !ok:
		return bad("want followers, tag:NAME or tag:ID")
	case name == "":
		return bad("no tag after tag:; want tag:NAME or tag:ID")
	case !utf8.ValidString(name):
		return bad("the tag name is not valid UTF-8")
	case utf8.RuneCountInString(name) > maxTagName:
		return bad(fmt.Sprintf("the tag name is longer than %d characters", maxTagName))
	case strings.TrimSpace(name) != name:
		return bad("the tag name starts or ends with a space")
	case strings.ContainsFunc(name, unicode.IsControl):
		return bad("the tag name contains a control character")
	}
	if id, err := strconv.Atoi(name); err == nil && id <= 0 {
		return bad("a tag id is a positive number")
	}
	return Audience{Tag: name}, nil
}

// maxSetValue bounds one --set value: no WeChat field takes more.
const maxSetValue = 4096

// ParseSet reads --set arguments, each "key=value": variables every
// recipient shares. The value is everything after the first "=". The
// variables must pass SharedVars. Errors are Invalid, with field "set".
func ParseSet(args []string) ([]recipient.Var, error) {
	vars := make([]recipient.Var, 0, len(args))
	for _, arg := range args {
		key, value, ok := strings.Cut(arg, "=")
		switch {
		case !ok:
			return nil, setError(arg, "want key=value")
		case key == "":
			return nil, setError(arg, "no key before =; want key=value")
		}
		vars = append(vars, recipient.Var{Name: key, Value: value})
	}
	return vars, SharedVars(vars)
}

// SharedVars checks variables every recipient is to share (--set, or a
// served batch's "set"): a key follows the rule for recipient columns
// ([A-Za-z_][A-Za-z0-9_]*), is not openid (each recipient has its own),
// and is given once; a value is UTF-8 without NUL, and may be empty only
// where the template allows it (the usual check). Errors are Invalid, with
// field "set".
func SharedVars(vars []recipient.Var) error {
	for i, v := range vars {
		arg := v.Name + "=" + v.Value
		switch {
		case !validName(v.Name):
			return setError(arg, "a key is ASCII letters, digits and _, not starting with a digit")
		case v.Name == "openid":
			return setError(arg, "openid is each recipient's own; it cannot be shared")
		case slices.ContainsFunc(vars[:i], func(w recipient.Var) bool { return w.Name == v.Name }):
			return setError(arg, fmt.Sprintf("%s is set twice", v.Name))
		case !utf8.ValidString(v.Value):
			return setError(arg, "the value is not valid UTF-8")
		case strings.ContainsRune(v.Value, 0):
			return setError(arg, "the value contains a NUL byte")
		case len(v.Value) > maxSetValue:
			return setError(arg, fmt.Sprintf("the value is longer than %d bytes", maxSetValue))
		}
	}
	return nil
}

func setError(arg, why string) error {
	return &Error{Code: Invalid, Field: "set", Msg: fmt.Sprintf("set %q: %s", arg, why)}
}

// validName reports whether s is a variable name: [A-Za-z_][A-Za-z0-9_]*.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || r == '_' || i > 0 && '0' <= r && r <= '9') {
			return false
		}
	}
	return true
}
