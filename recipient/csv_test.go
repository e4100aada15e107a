package recipient

import (
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

const id1, id2, id3 = "oA00000000000000000000000001", "oB00000000000000000000000002", "oC00000000000000000000000003"

func mustGBK(tb testing.TB, s string) string {
	tb.Helper()
	out, err := simplifiedchinese.GBK.NewEncoder().String(s)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func TestReader_CSV(t *testing.T) {
	tests := []struct {
		name  string
		input string
		opts  Options
		want  []string
	}{
		{
			name:  "OK",
			input: "openid,name,amount\n" + id1 + ",Alice,12.50\n" + id2 + ",Bob,3\n",
			want:  []string{`2:` + id1 + ` name="Alice" amount="12.50"`, `3:` + id2 + ` name="Bob" amount="3"`},
		},
		{
			name:  "OpenIDNotFirst",
			input: "name,openid\nAlice," + id1 + "\n",
			want:  []string{`2:` + id1 + ` name="Alice"`},
		},
		{
			name:  "OnlyOpenID",
			input: "openid\n" + id1 + "\n\n" + id2,
			want:  []string{`2:` + id1, `4:` + id2},
		},
		{
			name:  "CRLFAndNoFinalNewline",
			input: "openid,name\r\n" + id1 + ",Alice\r\n" + id2 + ",Bob",
			want:  []string{`2:` + id1 + ` name="Alice"`, `3:` + id2 + ` name="Bob"`},
		},
		{
			name: "QuotedValuesKeepEverything",
			input: "openid,note\n" + id1 + `,"a,b ""c"" ` + "\nnext line \"\n" +
				id2 + ",  spaced  \n" + id3 + ",=1+1\n",
			want: []string{
				`2:` + id1 + ` note="a,b \"c\" \nnext line "`,
				`4:` + id2 + ` note="  spaced  "`,
				`5:` + id3 + ` note="=1+1"`,
			},
		},
		{
			name:  "BlankAndEmptyRowsSkipped",
			input: "openid,name\n\n,\n" + id1 + ",Alice\n,,\n" + id2 + ",Bob\n",
			want:  []string{`4:` + id1 + ` name="Alice"`, `6:` + id2 + ` name="Bob"`},
		},
		{
			name:  "HeaderAfterBlankLines",
			input: "\n\nopenid\n" + id1 + "\n",
			want:  []string{`4:` + id1},
		},
		{
			name:  "HeaderEmptyName",
			input: "openid,name,,\n",
			want:  []string{"OPEN users.csv:1: column 3 has no name"},
		},
		{
			name:  "HeaderDuplicate",
			input: "openid,name,amount,name\n",
			want:  []string{`OPEN users.csv:1: column "name" appears twice (columns 2 and 4)`},
		},
		{
			name:  "HeaderDuplicateOpenID",
			input: "openid,openid\n",
			want:  []string{`OPEN users.csv:1: column "openid" appears twice (columns 1 and 2)`},
		},
		{
			name:  "HeaderInvalidName",
			input: "openid,first name\n",
			want: []string{`OPEN users.csv:1: column 2 "first name" is not a valid variable name ` +
				`(use letters, digits and _, not starting with a digit)`},
		},
		{
			name:  "HeaderLeadingDigit",
			input: "openid,1st\n",
			want: []string{`OPEN users.csv:1: column 2 "1st" is not a valid variable name ` +
				`(use letters, digits and _, not starting with a digit)`},
		},
		{
			name:  "HeaderOpenIDWrongCase",
			input: "OpenID,name\n",
			want:  []string{`OPEN users.csv:1: no openid column (found "OpenID"; column names are case-sensitive)`},
		},
		{
			name:  "HeaderGBK",
			input: mustGBK(t, "openid,姓名\n"),
			want:  []string{"OPEN users.csv:1: column 2: invalid UTF-8 (try --encoding gbk)"},
		},
		{
			name:  "HeaderBadQuote",
			input: "openid,na\"me\n",
			want: []string{"OPEN users.csv:1: stray quote in an unquoted field (byte 10): " +
				"quote the whole field and double the quote"},
		},
		{
			name:  "JSONLNamedCSV",
			input: `{"openid":"` + id1 + `"}` + "\n",
			want: []string{"OPEN users.csv:1: stray quote in an unquoted field (byte 2): " +
				"quote the whole field and double the quote (the file looks like JSONL, not CSV)"},
		},
		{
			name:  "WhitespaceOnly",
			input: "\n\n\n",
			want:  []string{"OPEN users.csv:1: no header row (empty file)"},
		},
		{
			name:  "BOMOnly",
			input: "\xef\xbb\xbf",
			want:  []string{"OPEN users.csv:1: no header row (empty file)"},
		},
		{
			name:  "OpenIDProblems",
			input: "openid,name\n,Alice\n" + strings.Repeat("o", 65) + ",Bob\no.1,Carol\n" + id1 + ",Dave\n",
			want: []string{
				"users.csv:2: openid: empty",
				"users.csv:3: openid: longer than 64 bytes",
				"users.csv:4: openid: invalid character '.'",
				`5:` + id1 + ` name="Dave"`,
			},
		},
		{
			name:  "NULInValue",
			input: "openid,name\n" + id1 + ",Al\x00ice\n",
			want:  []string{"users.csv:2: name: contains a NUL byte"},
		},
		{
			name:  "FieldErrorOnItsOwnLine",
			input: "openid,note,name\n" + id1 + ",\"two\nlines\",\xff\n",
			want:  []string{"users.csv:3: name: invalid UTF-8"},
		},
		{
			name:  "RaggedMultilineRecord",
			input: "openid,a,b\n" + id1 + ",\"x\ny\"\n" + id2 + ",1,2\n",
			want:  []string{"users.csv:2: 2 fields, header has 3", `4:` + id2 + ` a="1" b="2"`},
		},
		{
			name:  "OneField",
			input: "openid,a,b\n" + id1 + "\n",
			want:  []string{"users.csv:2: 1 field, header has 3"},
		},
		{
			name:  "BareQuoteContinues",
			input: "openid,name\n" + id1 + ",Bo\"b\n" + id2 + ",Carol\n",
			want: []string{
				"users.csv:2: stray quote in an unquoted field (byte 32): quote the whole field and double the quote",
				`3:` + id2 + ` name="Carol"`,
			},
		},
		{
			name:  "ExtraneousQuoteContinues",
			input: "openid,name\n" + id1 + ",\"Bob\"s\n" + id2 + ",Carol\n",
			want: []string{
				`users.csv:2: quote in a quoted field must be doubled ("") or followed by a comma (byte 34)`,
				`3:` + id2 + ` name="Carol"`,
			},
		},
		{
			name: "OpenQuoteSwallowsLines",
			input: "openid,name\n" + id1 + ",\"Bob\n" + id2 + ",Carol\n" + id3 + ",\"Dave\"\n" +
				id2 + ",Eve\n",
			want: []string{
				`users.csv:2: quote in a quoted field must be doubled ("") or followed by a comma (line 4, byte 30)`,
				`5:` + id2 + ` name="Eve"`,
			},
		},
		{
			name:  "LineTooLongContinues",
			opts:  Options{MaxLine: 40},
			input: "openid,name\n" + id1 + ",Alice\n" + id2 + "," + strings.Repeat("x", 100) + "\n" + id3 + ",Carol\n",
			want: []string{
				`2:` + id1 + ` name="Alice"`,
				"users.csv:3: line longer than 40 bytes",
				`4:` + id3 + ` name="Carol"`,
			},
		},
		{
			name:  "LineExactlyMax",
			opts:  Options{MaxLine: 34},
			input: "openid,name\n" + id1 + ",Alice\n" + id2 + ",Bobby\n",
			want:  []string{`2:` + id1 + ` name="Alice"`, `3:` + id2 + ` name="Bobby"`},
		},
		{
			name:  "HeaderTooLong",
			opts:  Options{MaxLine: 10},
			input: "openid,name,amount\n",
			want:  []string{"OPEN users.csv:1: line longer than 10 bytes"},
		},
		{
			name:  "RecordTooLongIsFatal",
			opts:  Options{MaxLine: 64},
			input: "openid,name\n" + id1 + ",Alice\n" + id2 + ",\"" + strings.Repeat("x\n", 5000) + "\"\n" + id3 + ",Carol\n",
			want: []string{
				`2:` + id1 + ` name="Alice"`,
				"FATAL users.csv:3: record runs past 64 bytes (is a quoted field missing its closing quote?)",
			},
		},
		{
			name:  "RecordSlightlyTooLong",
			opts:  Options{MaxLine: 64},
			input: "openid,name\n" + id1 + ",\"" + strings.Repeat("x\n", 40) + "\"\n" + id2 + ",Bob\n",
			want: []string{
				"users.csv:2: record longer than 64 bytes",
				`43:` + id2 + ` name="Bob"`,
			},
		},
		{
			name:  "LatinOneNoHint",
			input: "openid,name\n" + id1 + ",M\xfcller\n" + id2 + ",Zo\xeb\n" + id3 + ",\xe9t\xe9\n",
			want: []string{
				"users.csv:2: name: invalid UTF-8",
				"users.csv:3: name: invalid UTF-8",
				"users.csv:4: name: invalid UTF-8",
			},
		},
		{
			name:  "GBKHint",
			input: mustGBK(t, "openid,name\n"+id1+",朱镕基\n"+id2+",Zoé\n"), // 镕 is 0xE9 0x46; é is pinyin, not CJK
			want: []string{
				"users.csv:2: name: invalid UTF-8 (try --encoding gbk)",
				"users.csv:3: name: invalid UTF-8",
			},
		},
		{
			name:  "GBKRead",
			opts:  Options{Encoding: "GBK"},
			input: mustGBK(t, "openid,name\n"+id1+",张伟\n"),
			want:  []string{`2:` + id1 + ` name="张伟"`},
		},
		{
			name:  "GB18030Read",
			opts:  Options{Encoding: "gb18030"},
			input: "openid,name\n" + id1 + ",\x95\x32\x82\x36\n", // U+20000, outside GBK
			want:  []string{`2:` + id1 + ` name="𠀀"`},
		},
		{
			name:  "GBKInvalid",
			opts:  Options{Encoding: "gbk"},
			input: "openid,name\n" + id1 + ",\xd5\n",
			want:  []string{"users.csv:2: name: invalid GBK"},
		},
		{
			name:  "GBKButUTF8",
			opts:  Options{Encoding: "gbk"},
			input: "openid,name\n" + id1 + ",5€\n", // E2 82 | AC: a lead byte left without a trail
			want:  []string{"users.csv:2: name: invalid GBK (the bytes are valid UTF-8: drop --encoding gbk)"},
		},
		{
			name:  "BOMOverridesGBK",
			opts:  Options{Encoding: "gbk"},
			input: "\xef\xbb\xbfopenid,name\n" + id1 + ",张伟\n",
			want:  []string{`2:` + id1 + ` name="张伟"`},
		},
		{
			name:  "BOMIsNotAValue",
			input: "\xef\xbb\xbfopenid\n" + id1 + "\n",
			want:  []string{`2:` + id1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Name = "users.csv"
			tt.opts.Format = FormatCSV
			diffEvents(t, read(t, tt.input, tt.opts), tt.want)
		})
	}
}

func TestReader_Columns(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  string
	}{
		{name: "CSV", input: "name,openid,amount\n", want: "[name amount]"},
		{name: "CSVOnlyOpenID", input: "openid\n", want: "[]"},
		{name: "JSONL", input: `{"openid":"x"}`, want: "nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(tt.input), Options{})
			if err != nil {
				t.Fatal(err)
			}
			cols := r.Columns()
			got := "nil"
			if cols != nil {
				got = "[" + strings.Join(cols, " ") + "]"
				cols = append(cols[:0], "changed") // the caller's copy
			}
			if got != tt.want {
				t.Errorf("Columns() = %s, want %s", got, tt.want)
			}
			if again := r.Columns(); len(again) > 0 && again[0] == "changed" {
				t.Error("Columns returned the Reader's own slice")
			}
		})
	}
}
