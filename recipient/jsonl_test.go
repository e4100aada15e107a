package recipient

import (
	"strings"
	"testing"
)

func TestReader_JSONL(t *testing.T) {
	o1 := `{"openid":"` + id1 + `"`
	tests := []struct {
		name  string
		input string
		opts  Options
		want  []string
	}{
		{
			name:  "OK",
			input: o1 + `,"name":"Alice","amount":"12.50"}` + "\n" + `{"name":"Bob","openid":"` + id2 + `"}` + "\n",
			want:  []string{`1:` + id1 + ` name="Alice" amount="12.50"`, `2:` + id2 + ` name="Bob"`},
		},
		{
			name:  "Scalars",
			input: o1 + `,"n":13800138000,"f":-1.50e3,"t":true,"x":false,"z":null,"e":""}`,
			want:  []string{`1:` + id1 + ` n="13800138000" f="-1.50e3" t="true" x="false" z="" e=""`},
		},
		{
			name:  "EscapesDecoded",
			input: o1 + `,"s":"a\"b\\c\n\u00e9\ud83d\ude00 <&>"}`,
			want:  []string{`1:` + id1 + ` s="a\"b\\c\né😀 <&>"`},
		},
		{
			name:  "BlankLinesCountCRLF",
			input: "\n  \r\n" + o1 + "}\r\n\t\n" + `{"openid":"` + id2 + `"}`,
			want:  []string{`3:` + id1, `5:` + id2},
		},
		{
			name:  "NotAnObject",
			input: "[1,2]\n\"x\"\n42\nnull\n" + o1 + "}\n",
			want: []string{
				"users.jsonl:1: not a JSON object",
				"users.jsonl:2: not a JSON object",
				"users.jsonl:3: not a JSON object",
				"users.jsonl:4: not a JSON object",
				`5:` + id1,
			},
		},
		{
			name:  "InvalidJSON",
			input: o1 + ",}\n" + o1 + "\n{openid:1}\n" + o1 + ` "a":1}` + "\n",
			want: []string{
				"users.jsonl:1: invalid JSON at byte 42: invalid character '}' looking for beginning of object key string",
				"users.jsonl:2: invalid JSON: the line ends inside the object",
				"users.jsonl:3: invalid JSON at byte 2: invalid character 'o'",
				"users.jsonl:4: invalid JSON at byte 42: invalid character '\"' after object key:value pair",
			},
		},
		{
			name:  "TrailingData",
			input: o1 + "} " + o1 + "}\n" + o1 + "}x\n",
			want: []string{
				"users.jsonl:1: unexpected data after the object (one object per line)",
				"users.jsonl:2: unexpected data after the object (one object per line)",
			},
		},
		{
			name:  "OpenIDProblems",
			input: `{"name":"x"}` + "\n" + `{"openid":42}` + "\n" + `{"openid":null}` + "\n" + `{"openid":"a b"}` + "\n" + `{"openid":""}` + "\n" + `{"openid":["x"]}` + "\n",
			want: []string{
				"users.jsonl:1: openid: missing",
				"users.jsonl:2: openid: must be a string, not a number",
				"users.jsonl:3: openid: must be a string, not null",
				"users.jsonl:4: openid: contains a space",
				"users.jsonl:5: openid: empty",
				"users.jsonl:6: openid: must be a string, not an array",
			},
		},
		{
			name:  "Nested",
			input: o1 + `,"tags":["a"]}` + "\n" + o1 + `,"addr":{"city":"x"}}` + "\n",
			want: []string{
				"users.jsonl:1: tags: value is an array; only strings, numbers, booleans and null are allowed",
				"users.jsonl:2: addr: value is an object; only strings, numbers, booleans and null are allowed",
			},
		},
		{
			name:  "DuplicateKeys",
			input: o1 + `,"name":"a","name":"b"}` + "\n" + o1 + `,"openid":"` + id2 + `"}` + "\n",
			want: []string{
				"users.jsonl:1: name: duplicate key",
				"users.jsonl:2: openid: duplicate key",
			},
		},
		{
			name:  "DuplicateKeyAmongMany",
			input: o1 + manyKeys(40) + `,"k7":"again"}`,
			want:  []string{"users.jsonl:1: k7: duplicate key"},
		},
		{
			name:  "InvalidKey",
			input: o1 + `,"first name":"a"}` + "\n" + o1 + `,"":"a"}` + "\n",
			want: []string{
				`users.jsonl:1: key "first name" is not a valid variable name (use letters, digits and _, not starting with a digit)`,
				`users.jsonl:2: key "" is not a valid variable name (use letters, digits and _, not starting with a digit)`,
			},
		},
		{
			name:  "NUL",
			input: o1 + `,"name":"a\u0000b"}`,
			want:  []string{"users.jsonl:1: name: contains a NUL byte"},
		},
		{
			name:  "InvalidUTF8",
			input: o1 + ",\"name\":\"M\xfcller\"}\n" + o1 + ",\"name\":\"" + mustGBK(t, "张伟") + "\"}\n",
			want: []string{
				"users.jsonl:1: invalid UTF-8",
				"users.jsonl:2: invalid UTF-8 (try --encoding gbk)",
			},
		},
		{
			name:  "GBK",
			opts:  Options{Encoding: "gbk"},
			input: mustGBK(t, o1+`,"name":"张伟"}`+"\n") + o1 + ",\"name\":\"\xd5\"}\n",
			want:  []string{`1:` + id1 + ` name="张伟"`, "users.jsonl:2: invalid GBK"},
		},
		{
			name:  "LineTooLongContinues",
			opts:  Options{MaxLine: 64},
			input: o1 + "}\n" + o1 + `,"x":"` + strings.Repeat("x", 200) + "\"}\n" + `{"openid":"` + id2 + `"}`,
			want:  []string{`1:` + id1, "users.jsonl:2: line longer than 64 bytes", `3:` + id2},
		},
		{
			name:  "LineTooLongSpansBuffers",
			opts:  Options{MaxLine: 100 << 10},
			input: o1 + `,"x":"` + strings.Repeat("x", 200<<10) + "\"}\n" + `{"openid":"` + id2 + `"}` + "\n",
			want:  []string{"users.jsonl:1: line longer than 102400 bytes", `2:` + id2},
		},
		{
			name:  "LongLineWithinLimit",
			opts:  Options{MaxLine: 200 << 10},
			input: o1 + `,"x":"` + strings.Repeat("y", 100<<10) + "\"}\n",
			want:  []string{`1:` + id1 + ` x="` + strings.Repeat("y", 100<<10) + `"`},
		},
		{
			name:  "FirstLineTooLong",
			opts:  Options{MaxLine: 10},
			input: o1 + "}\n",
			want:  []string{"users.jsonl:1: line longer than 10 bytes"},
		},
		{
			name:  "Empty",
			input: "",
			want:  []string{"OPEN users.jsonl:1: empty file"},
		},
		{
			name:  "BlankOnly",
			input: "\xef\xbb\xbf\n \r\n\t\n",
			want:  []string{"OPEN users.jsonl:1: empty file"},
		},
		{
			name:  "BOM",
			input: "\xef\xbb\xbf" + o1 + "}\n",
			want:  []string{`1:` + id1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Name = "users.jsonl"
			tt.opts.Format = FormatJSONL
			diffEvents(t, read(t, tt.input, tt.opts), tt.want)
		})
	}
}

// manyKeys returns `,"k0":"0","k1":"1",...` with n keys.
func manyKeys(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(`,"k` + itoa(i) + `":"` + itoa(i) + `"`)
	}
	return b.String()
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
