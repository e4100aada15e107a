package recipient

import (
	"strings"
	"testing"
)

func TestCheckOpenID(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{name: "Real", in: "oRmDq5Jm3Ynl9XCdtgQ7Kz1-ab_c"},
		{name: "One", in: "x"},
		{name: "Max", in: strings.Repeat("a", 64)},
		{name: "Empty", in: "", wantErr: "empty"},
		{name: "TooLong", in: strings.Repeat("a", 65), wantErr: "longer than 64 bytes"},
		{name: "TrailingSpace", in: "oAbc ", wantErr: "contains a space"},
		{name: "Tab", in: "oA\tbc", wantErr: "contains a space"},
		{name: "IdeographicSpace", in: "oAbc\u3000", wantErr: "contains a space"},
		{name: "Dot", in: "o.Abc", wantErr: "invalid character '.'"},
		{name: "Quote", in: `o"Abc`, wantErr: `invalid character '"'`},
		{name: "NUL", in: "oA\x00", wantErr: `invalid character '\x00'`},
		{name: "Chinese", in: "张伟", wantErr: "invalid character '张'"},
		{name: "InvalidUTF8", in: "oA\xff", wantErr: "invalid UTF-8"},
		{name: "LongBeatsSpace", in: strings.Repeat("a ", 40), wantErr: "longer than 64 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckOpenID(tt.in)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.wantErr {
				t.Errorf("CheckOpenID(%q) = %q, want %q", tt.in, got, tt.wantErr)
			}
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
