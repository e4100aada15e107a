package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadConfigFile_Cap: an account's cap is read as --cap is; a bad one
// is refused naming the file, the line and the key.
func TestReadConfigFile_Cap(t *testing.T) {
	for _, tt := range []struct {
		name, value, want, err string
	}{
		{name: "Day", value: `"1/24h"`, want: "1/24h"},
		{name: "Week", value: `"3/7d"`, want: "3/7d"},
		{name: "Off", value: `"off"`, want: ""},
		{name: "Zero", value: `"0/24h"`, err: "want a whole number of messages from 1"},
		{name: "NoDuration", value: `"1/"`, err: "no duration after the slash"},
		{name: "NotACount", value: `"x/1h"`, err: `the count "x"`},
		{name: "Negative", value: `"1/-24h"`, err: "want a duration such as"},
		{name: "NoTime", value: `"1/0s"`, err: "want at least a second"},
		{name: "NotAString", value: `1`, err: "cap"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "megasend.toml")
			body := "[accounts.main]\napp_id = \"wx1\"\ncap = " + tt.value + "\n"
			if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := ReadConfigFile(path)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), path) ||
					!strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "accounts.main.cap") {
					t.Errorf("error %v; want one naming %s, line 3, accounts.main.cap and saying %q", err, path, tt.err)
				}
				return
			}
			if err != nil || c.Accounts["main"].Cap.String() != tt.want {
				t.Errorf("cap %q, %v; want %q", c.Accounts["main"].Cap, err, tt.want)
			}
		})
	}
}
