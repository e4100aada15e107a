package campaign

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseAudience: any input either parses to an audience that spells
// itself back the same, or is an Invalid error naming the audience field.
func FuzzParseAudience(f *testing.F) {
	for _, s := range []string{"followers", "tag:VIP客户", "tag:100", "tag:", "tag:0", "tag:-1", "Followers",
		"tag: x", "tag:a\x00b", "tag:\xff", "tag:" + strings.Repeat("长", 65), "tag:tag:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAudience(s)
		if err != nil {
			var e *Error
			if ErrorCode(err) != Invalid || !errors.As(err, &e) || e.Field != "audience" {
				t.Fatalf("%q: %v; want an Invalid error on field audience", s, err)
			}
			return
		}
		if a.String() != s {
			t.Fatalf("%q parsed to %+v, which spells %q", s, a, a.String())
		}
		if !a.Followers() && (!utf8.ValidString(a.Tag) || a.Tag == "") {
			t.Fatalf("%q: tag %q", s, a.Tag)
		}
	})
}

// FuzzParseSet: what ParseSet accepts is a key that is a variable name,
// given once, and the value after the first "=", unchanged.
func FuzzParseSet(f *testing.F) {
	for _, s := range [][2]string{{"a=1", "b=x,y"}, {"name=", "name=2"}, {"=v", "k"}, {"openid=o", "a=b=c"},
		{"9a=1", "_a=\xff"}, {"a=\x00", "ключ=1"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, x, y string) {
		args := []string{x, y}
		vars, err := ParseSet(args)
		if err != nil {
			if ErrorCode(err) != Invalid {
				t.Fatalf("%q: %v; want Invalid", args, err)
			}
			return
		}
		if len(vars) != 2 || vars[0].Name == vars[1].Name {
			t.Fatalf("%q: %+v", args, vars)
		}
		for i, v := range vars {
			if !validName(v.Name) || v.Name == "openid" || args[i] != v.Name+"="+v.Value || !utf8.ValidString(v.Value) {
				t.Fatalf("%q: var %d is %+v", args, i, v)
			}
		}
	})
}
