package recipient

import (
	"reflect"
	"testing"
	"unicode/utf8"
)

func TestVarsJSON_RoundTrip(t *testing.T) {
	tests := []struct {
		name string
		vars []Var
	}{
		{name: "Empty"},
		{name: "One", vars: []Var{{"name", "张伟"}}},
		{name: "Tricky", vars: []Var{{"a", `he said "hi" \ $1 & <b>`}, {"b", "line\nbreak\t\u2028 😀"}, {"c", ""}}},
		{name: "OrderKept", vars: []Var{{"z", "1"}, {"a", "2"}, {"m", "3"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := AppendVarsJSON(nil, tt.vars)
			got, err := ParseVarsJSON(string(data), nil)
			if err != nil {
				t.Fatalf("ParseVarsJSON(%s) = %v", data, err)
			}
			if !reflect.DeepEqual(got, tt.vars) {
				t.Errorf("round trip = %q, want %q", got, tt.vars)
			}
		})
	}
}

func TestParseVarsJSON_Errors(t *testing.T) {
	for _, in := range []string{``, `[]`, `{`, `{"a"}`, `{"a":1}`, `{"a":"b"`, `{"a":"b",}`, `{"a":"b"}x`, `{"a":"\x01"}`, "{\"a\":\"\xff\"}"} {
		if _, err := ParseVarsJSON(in, nil); err == nil {
			t.Errorf("ParseVarsJSON(%q) = nil error", in)
		}
	}
}

func FuzzVarsJSON(f *testing.F) {
	f.Add("name", "张伟", "x", `"\`)
	f.Add("", "", "a", "\n")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		vars := []Var{{k1, v1}, {k2, v2}}
		data := AppendVarsJSON(nil, vars)
		got, err := ParseVarsJSON(string(data), nil)
		valid := utf8.ValidString(k1) && utf8.ValidString(v1) && utf8.ValidString(k2) && utf8.ValidString(v2)
		if !valid {
			return // the writer's contract is valid UTF-8; only no panic is required
		}
		if err != nil || !reflect.DeepEqual(got, vars) {
			t.Fatalf("round trip of %q: %q, %v", vars, got, err)
		}
		// Arbitrary bytes never panic.
		ParseVarsJSON(v1, nil)
	})
}
