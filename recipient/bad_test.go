package recipient

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// badDir is the corpus of broken recipient files at the repository root;
// its README says what each file is.
var badDir = filepath.Join("..", "testdata", "bad")

// longLineCSV is long_line.csv, built here rather than committed: a header,
// a good row, one line of about 10 MB, and another good row after it.
func longLineCSV() []byte {
	var b bytes.Buffer
	b.WriteString("openid,note\n")
	b.WriteString("oLong00000000000000000000001,short\n")
	b.WriteString("oLong00000000000000000000002,")
	b.Write(bytes.Repeat([]byte("x"), 10<<20))
	b.WriteString("\noLong00000000000000000000003,after\n")
	return b.Bytes()
}

func TestBadCorpus(t *testing.T) {
	tests := []struct {
		name     string        // file in testdata/bad
		generate func() []byte // builds the file instead of reading it
		encoding string
		openids  OpenIDCheck
		want     []string // events: see events()
	}{
		{name: "empty.csv", want: []string{
			"OPEN empty.csv:1: no header row (empty file)",
		}},
		{name: "header_only.csv", want: nil},
		{name: "no_openid_column.csv", want: []string{
			"OPEN no_openid_column.csv:1: no openid column",
		}},
		{name: "ragged.csv", want: []string{
			`2:oRagged000000000000000000001 name="Alice" amount="12.50"`,
			"ragged.csv:3: 2 fields, header has 3",
			"ragged.csv:4: 4 fields, header has 3",
			`5:oRagged000000000000000000004 name="Dave" amount="3.20"`,
		}},
		{name: "unterminated_quote.csv", want: []string{
			`2:oQuote0000000000000000000001 name="Alice"`,
			"FATAL unterminated_quote.csv:3: quoted field is never closed (still open at end of file)",
		}},
		{name: "invalid_utf8.csv", want: []string{
			`2:oUtf800000000000000000000001 name="Alice"`,
			"invalid_utf8.csv:3: name: invalid UTF-8",
			`4:oUtf800000000000000000000003 name="Bob"`,
		}},
		{name: "gbk_without_encoding.csv", want: []string{
			"gbk_without_encoding.csv:2: name: invalid UTF-8 (try --encoding gbk)",
			"gbk_without_encoding.csv:3: name: invalid UTF-8 (try --encoding gbk)",
			"gbk_without_encoding.csv:4: name: invalid UTF-8 (try --encoding gbk)",
		}},
		{name: "gbk_without_encoding.csv", encoding: "gbk", want: []string{
			`2:oGbk000000000000000000000001 name="张伟" city="北京"`,
			`3:oGbk000000000000000000000002 name="王芳" city="上海"`,
			`4:oGbk000000000000000000000003 name="阿依古丽·买买提" city="乌鲁木齐"`,
		}},
		{name: "bom_gbk.csv", want: []string{
			`2:oBomGbk000000000000000000001 name="Alice"`,
			"bom_gbk.csv:3: name: invalid UTF-8: looks like GBK, but the file starts with a UTF-8 byte order mark, " +
				"so --encoding gbk cannot help (the file mixes encodings: save it again as CSV UTF-8)",
		}},
		{name: "bom_gbk.csv", encoding: "gbk", want: []string{
			`2:oBomGbk000000000000000000001 name="Alice"`,
			"bom_gbk.csv:3: name: invalid UTF-8: the file starts with a UTF-8 byte order mark, which overrides --encoding gbk, " +
				"yet this looks like GBK (the file mixes encodings: save it again as CSV UTF-8)",
		}},
		{name: "bom.csv", want: []string{
			`2:oBom000000000000000000000001 name="李娜"`,
			`3:oBom000000000000000000000002 name="Zoë"`,
		}},
		{name: "long_line.csv", generate: longLineCSV, want: []string{
			`2:oLong00000000000000000000001 note="short"`,
			"long_line.csv:3: line longer than 1048576 bytes",
			`4:oLong00000000000000000000003 note="after"`,
		}},
		{name: "not_object.jsonl", want: []string{
			`1:oJsonl0000000000000000000001 name="Alice"`,
			"not_object.jsonl:2: not a JSON object",
			"not_object.jsonl:3: not a JSON object",
			`5:oJsonl0000000000000000000004 name="Dave"`,
		}},
		{name: "duplicate_openids.csv", want: []string{
			`2:oDup000000000000000000000001 name="Alice"`,
			`3:oDup000000000000000000000002 name="Bob"`,
			`4:oDup000000000000000000000001 name="Alice again"`,
		}},
		{name: "workbook.xlsx", want: []string{
			`OPEN workbook.xlsx:1: this is an Excel workbook (.xlsx), not CSV: save it as "CSV UTF-8 (Comma delimited)" and give megasend that file`,
		}},
		{name: "short_openids.csv", want: []string{
			"short_openids.csv:2: openid: 2 characters, not 28 as WeChat's openids have (an account whose openids differ: --openid-check loose)",
			"short_openids.csv:3: openid: 27 characters, not 28 as WeChat's openids have (an account whose openids differ: --openid-check loose)",
			`4:oRmDq5Jm3Ynl9XCdtgQ7Kz1-ab_c name="Carol"`,
		}},
		{name: "short_openids.csv", openids: OpenIDLoose, want: []string{
			`2:ox name="Alice"`,
			`3:oRmDq5Jm3Ynl9XCdtgQ7Kz1-ab_ name="Bob"`,
			`4:oRmDq5Jm3Ynl9XCdtgQ7Kz1-ab_c name="Carol"`,
		}},
		{name: "missing_key.jsonl", want: []string{
			`1:oMissKey00000000000000000001 product="巧克力" amount="39.80" coupon="C0"`,
			`2:oMissKey00000000000000000002 product="巧克力" amount="39.80"`,
			`3:oMissKey00000000000000000003 product="巧克力" amount="39.80"`,
			`4:oMissKey00000000000000000004 product="巧克力" amount="39.80"`,
			`5:oMissKey00000000000000000005 product="巧克力" amount="39.80"`,
			`6:oMissKey00000000000000000006 product="巧克力" amount="39.80"`,
			`7:oMissKey00000000000000000007 product="巧克力" amount="39.80"`,
			`8:oMissKey00000000000000000008 product="巧克力" amount="39.80"`,
			`9:oMissKey00000000000000000009 product="巧克力" amount="39.80"`,
			`10:oMissKey00000000000000000010 product="巧克力" amount="39.80"`,
			`11:oMissKey00000000000000000011 product="巧克力" amount="39.80"`,
			`12:oMissKey00000000000000000012 product="巧克力" amount="39.80"`,
			`13:oMissKey00000000000000000013 product="巧克力" amount="39.80"`,
			`14:oMissKey00000000000000000014 product="巧克力" amount="39.80" coupon="C13"`,
		}},
		{name: "openid_with_space.csv", want: []string{
			`2:oSpace0000000000000000000001 name="Alice"`,
			"openid_with_space.csv:3: openid: contains a space",
			"openid_with_space.csv:4: openid: contains a space",
		}},
	}
	for _, tt := range tests {
		name := tt.name
		if tt.encoding != "" {
			name += "+" + tt.encoding
		}
		if tt.openids != OpenIDStrict {
			name += "+" + tt.openids.String()
		}
		t.Run(name, func(t *testing.T) {
			var data []byte
			if tt.generate != nil {
				data = tt.generate()
			} else {
				var err error
				if data, err = os.ReadFile(filepath.Join(badDir, tt.name)); err != nil {
					t.Fatal(err)
				}
			}
			got := read(t, string(data), Options{
				Name:     tt.name,
				Format:   FormatFromPath(tt.name),
				Encoding: tt.encoding,
				OpenIDs:  tt.openids,
			})
			diffEvents(t, got, tt.want)
		})
	}
}

// TestBadCorpus_Complete keeps the table above and the directory in step.
func TestBadCorpus_Complete(t *testing.T) {
	entries, err := os.ReadDir(badDir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"README.md": true, "gen.go": true,
		"empty.csv": true, "header_only.csv": true, "no_openid_column.csv": true, "ragged.csv": true,
		"unterminated_quote.csv": true, "invalid_utf8.csv": true, "gbk_without_encoding.csv": true,
		"bom.csv": true, "not_object.jsonl": true, "duplicate_openids.csv": true, "openid_with_space.csv": true,
		"workbook.xlsx": true, "bom_gbk.csv": true, "missing_key.jsonl": true, "short_openids.csv": true,
		// Not recipient files: the templates and configs of the end-to-end
		// scripts testdata/script/bad_*.txtar, which run the whole corpus.
		"name.json": true, "not_json.json": true, "needs_coupon.json": true,
		"fixed_touser.json": true, "default_touser.json": true, "placeholder_key.json": true,
		"no_secret.toml": true, "unknown_account.toml": true,
	}
	for _, e := range entries {
		if !want[e.Name()] {
			t.Errorf("testdata/bad/%s is not covered by TestBadCorpus", e.Name())
		}
		delete(want, e.Name())
	}
	for name := range want {
		t.Errorf("testdata/bad/%s is missing", name)
	}
	readme, err := os.ReadFile(filepath.Join(badDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "long_line.csv") {
		t.Error("README.md does not explain that long_line.csv is generated")
	}
}
