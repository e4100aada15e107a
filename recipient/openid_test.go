package recipient

import (
	"fmt"
	"strings"
	"testing"
)

func TestOpenIDCheck_Check(t *testing.T) {
	const real = "oRmDq5Jm3Ynl9XCdtgQ7Kz1-ab_c"
	lengthMsg := func(n int) string {
		return fmt.Sprintf("%d characters, not 28 as WeChat's openids have (an account whose openids differ: --openid-check loose)", n)
	}
	tests := []struct {
		name   string
		in     string
		strict string // the error under OpenIDStrict, "" for none
		loose  string // the error under OpenIDLoose
	}{
		{name: "Real", in: real},
		{name: "TwoChars", in: "ox", strict: lengthMsg(2)},
		{name: "One", in: "x", strict: lengthMsg(1)},
		{name: "OneShort", in: real[:27], strict: lengthMsg(27)},
		{name: "OneLong", in: real + "d", strict: lengthMsg(29)},
		{name: "Max", in: strings.Repeat("a", 64), strict: lengthMsg(64)},
		{name: "Empty", in: "", strict: "empty", loose: "empty"},
		{name: "TooLong", in: strings.Repeat("a", 65), strict: "longer than 64 bytes", loose: "longer than 64 bytes"},
		{name: "TrailingSpace", in: real[:27] + " ", strict: "contains a space", loose: "contains a space"},
		{name: "ShortWithSpace", in: "oAbc ", strict: "contains a space", loose: "contains a space"},
		{name: "Tab", in: "oA\tbc", strict: "contains a space", loose: "contains a space"},
		{name: "IdeographicSpace", in: "oAbc\u3000", strict: "contains a space", loose: "contains a space"},
		{name: "Dot", in: "o.Abc", strict: "invalid character '.'", loose: "invalid character '.'"},
		{name: "Plus", in: real[:27] + "+", strict: "invalid character '+'", loose: "invalid character '+'"},
		{name: "Quote", in: `o"Abc`, strict: `invalid character '"'`, loose: `invalid character '"'`},
		{name: "NUL", in: "oA\x00", strict: `invalid character '\x00'`, loose: `invalid character '\x00'`},
		{name: "Chinese", in: "张伟", strict: "invalid character '张'", loose: "invalid character '张'"},
		{name: "InvalidUTF8", in: "oA\xff", strict: "invalid UTF-8", loose: "invalid UTF-8"},
		{name: "HighByteIn28", in: real[:26] + "\xc3\xa9", strict: "invalid character 'é'", loose: "invalid character 'é'"},
		{name: "LongBeatsSpace", in: strings.Repeat("a ", 40), strict: "longer than 64 bytes", loose: "longer than 64 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range []struct {
				check OpenIDCheck
				want  string
			}{{OpenIDStrict, tt.strict}, {OpenIDLoose, tt.loose}} {
				err := c.check.Check(tt.in)
				got := ""
				if err != nil {
					got = err.Error()
				}
				if got != c.want {
					t.Errorf("%v.Check(%q) = %q, want %q", c.check, tt.in, got, c.want)
				}
			}
			if got, want := CheckOpenID(tt.in), OpenIDStrict.Check(tt.in); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("CheckOpenID(%q) = %v, want OpenIDStrict's %v", tt.in, got, want)
			}
		})
	}
}

func TestParseOpenIDCheck(t *testing.T) {
	tests := []struct {
		in      string
		want    OpenIDCheck
		wantErr bool
	}{
		{in: "", want: OpenIDStrict},
		{in: "strict", want: OpenIDStrict},
		{in: " Loose ", want: OpenIDLoose},
		{in: "off", wantErr: true},
		{in: "28", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseOpenIDCheck(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseOpenIDCheck(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err == nil && tt.in != "" {
			if back, _ := ParseOpenIDCheck(got.String()); back != got {
				t.Errorf("%v does not parse back from its String", got)
			}
		}
	}
}

func TestOpenIDCheck_Text(t *testing.T) {
	var c OpenIDCheck
	if err := c.UnmarshalText([]byte("loose")); err != nil || c != OpenIDLoose {
		t.Fatalf("UnmarshalText(loose) = %v, %v", c, err)
	}
	if b, _ := c.MarshalText(); string(b) != "loose" {
		t.Fatalf("MarshalText = %q", b)
	}
	if err := c.UnmarshalText([]byte("lax")); err == nil || c != OpenIDLoose {
		t.Fatalf("UnmarshalText(lax) = %v, %v; want an error and no change", c, err)
	}
}

// TestReader_OpenIDCheck checks that Options.OpenIDs reaches both formats:
// the "ox" and 27-character openids are refused by default, and a
// loose reader takes them.
func TestReader_OpenIDCheck(t *testing.T) {
	const id27 = "oRmDq5Jm3Ynl9XCdtgQ7Kz1-ab_"
	inputs := map[Format]string{
		FormatCSV:   "openid,name\nox,A\n" + id27 + ",B\n",
		FormatJSONL: `{"openid":"ox","name":"A"}` + "\n" + `{"openid":"` + id27 + `","name":"B"}` + "\n",
	}
	for f, input := range inputs {
		line := map[Format]int{FormatCSV: 2, FormatJSONL: 1}[f]
		strict := read(t, input, Options{Name: "u", Format: f})
		want := []string{
			fmt.Sprintf("u:%d: openid: 2 characters, not 28 as WeChat's openids have (an account whose openids differ: --openid-check loose)", line),
			fmt.Sprintf("u:%d: openid: 27 characters, not 28 as WeChat's openids have (an account whose openids differ: --openid-check loose)", line+1),
		}
		diffEvents(t, strict, want)
		loose := read(t, input, Options{Name: "u", Format: f, OpenIDs: OpenIDLoose})
		diffEvents(t, loose, []string{
			fmt.Sprintf(`%d:ox name="A"`, line),
			fmt.Sprintf(`%d:%s name="B"`, line+1, id27),
		})
	}
}

func TestValidName(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{name: "Simple", in: "name", want: true},
		{name: "Underscore", in: "_x1", want: true},
		{name: "Mixed", in: "orderNo_2", want: true},
		{name: "Empty", in: "", want: false},
		{name: "LeadingDigit", in: "1st", want: false},
		{name: "Space", in: "first name", want: false},
		{name: "Dash", in: "order-no", want: false},
		{name: "Chinese", in: "姓名", want: false},
		{name: "Dollar", in: "$x", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := validName(tt.in); got != tt.want {
				t.Errorf("validName(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
