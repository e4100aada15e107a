package cmd

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/megasend/megasend/wechat/wechattest"
)

func TestSandboxOptions_Audiences(t *testing.T) {
	dir := t.TempDir()
	ids := filepath.Join(dir, "interacted.txt")
	os.WriteFile(ids, []byte("# wrote to us\noAbCdEfGhIjKlMnOpQrStUvWx_01\n"), 0o600)
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte("oAbCdEfGhIjKlMnOpQrStUvWx_01\n\nnope\n"), 0o600)

	tests := []struct {
		name    string
		edit    func(*sandboxOptions)
		check   func(*testing.T, wechattest.Options)
		wantErr string
	}{
		{name: "NoneGiven", check: func(t *testing.T, o wechattest.Options) {
			if o.Followers != 0 || o.Tags != nil || o.Interacted != nil || o.Subscribed != nil {
				t.Errorf("%+v", o)
			}
		}},
		{name: "FollowersGiven", edit: func(o *sandboxOptions) { o.followers, o.followersSet = 300, true },
			check: func(t *testing.T, o wechattest.Options) {
				if o.Followers != 300 {
					t.Errorf("Followers = %d, want 300", o.Followers)
				}
			}},
		{name: "FollowersDefaultGiven", edit: func(o *sandboxOptions) { o.followersSet = true },
			check: func(t *testing.T, o wechattest.Options) {
				if o.Followers != 25000 {
					t.Errorf("--followers 25000 given: Followers = %d, want 25000 (membership real)", o.Followers)
				}
			}},
		{name: "Tags", edit: func(o *sandboxOptions) { o.tags = "vip=300, 内测 = 5" },
			check: func(t *testing.T, o wechattest.Options) {
				if !slices.Equal(o.Tags, []wechattest.Tag{{Name: "vip", Count: 300}, {Name: "内测", Count: 5}}) {
					t.Errorf("Tags = %v", o.Tags)
				}
			}},
		{name: "Shares", edit: func(o *sandboxOptions) { o.interacted, o.subscribed = "30%", "12.5%" },
			check: func(t *testing.T, o wechattest.Options) {
				if o.Interacted == nil || o.Interacted.Percent != 30 || o.Subscribed == nil || o.Subscribed.Percent != 12.5 {
					t.Errorf("Interacted %+v, Subscribed %+v", o.Interacted, o.Subscribed)
				}
			}},
		{name: "Files", edit: func(o *sandboxOptions) { o.interacted, o.subscribed = ids, ids },
			check: func(t *testing.T, o wechattest.Options) {
				if o.Interacted == nil || len(o.Interacted.OpenIDs) != 1 || o.Interacted.Percent != 0 || len(o.Subscribed.OpenIDs) != 1 {
					t.Errorf("Interacted %+v, Subscribed %+v", o.Interacted, o.Subscribed)
				}
			}},
		{name: "TagOverFollowers", edit: func(o *sandboxOptions) { o.followers, o.followersSet, o.tags = 10, true, "vip=11" }, wantErr: "--tags: count 11 is more than the 10 followers"},
		{name: "TagOverDefaultFollowers", edit: func(o *sandboxOptions) { o.tags = "vip=25001" }, wantErr: "--tags"},
		{name: "TagNoCount", edit: func(o *sandboxOptions) { o.tags = "vip" }, wantErr: `--tags: item 1 "vip": want NAME=COUNT`},
		{name: "TagBadCount", edit: func(o *sandboxOptions) { o.tags = "a=1,b=-2" }, wantErr: `--tags: item 2 "b=-2": COUNT`},
		{name: "TagTwice", edit: func(o *sandboxOptions) { o.tags = "a=1,a=2" }, wantErr: `tag "a" given twice`},
		{name: "TagEmptyItem", edit: func(o *sandboxOptions) { o.tags = "a=1," }, wantErr: "item 2"},
		{name: "ShareOver", edit: func(o *sandboxOptions) { o.interacted = "101%" }, wantErr: "--interacted: \"101%\": want a percentage from 0% to 100%"},
		{name: "ShareNaN", edit: func(o *sandboxOptions) { o.subscribed = "NaN%" }, wantErr: "--subscribed"},
		{name: "ShareText", edit: func(o *sandboxOptions) { o.subscribed = "half%" }, wantErr: "--subscribed: \"half%\" is not a percentage"},
		{name: "MissingFile", edit: func(o *sandboxOptions) { o.interacted = filepath.Join(dir, "nope") }, wantErr: "--interacted"},
		{name: "BadFile", edit: func(o *sandboxOptions) { o.subscribed = bad }, wantErr: "--subscribed " + bad + ": line 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := defaultSandboxOptions()
			if tt.edit != nil {
				tt.edit(&o)
			}
			got, err := o.simOptions()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || exitCode(err) != exitUsage {
					t.Fatalf("err = %v (exit %d), want a usage error mentioning %q", err, exitCode(err), tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, got)
		})
	}
}

func FuzzParseTags(f *testing.F) {
	for _, s := range []string{"", "vip=300", "a=1,b=2", " 内测 = 5 ", "a", "a=-1", "a=1,a=2", "=3", "a=1,,b=2", "a=99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tags, err := parseTags(s)
		if err != nil {
			if tags != nil {
				t.Errorf("parseTags(%q) = %v and %v", s, tags, err)
			}
			return
		}
		seen := map[string]bool{}
		for _, tag := range tags {
			if tag.Name == "" || tag.Name != strings.TrimSpace(tag.Name) || tag.Count < 0 || seen[tag.Name] ||
				strings.ContainsAny(tag.Name, ",=") {
				t.Fatalf("parseTags(%q) gave %+v", s, tags)
			}
			seen[tag.Name] = true
		}
		// What it takes, the simulator takes (with enough followers).
		if err := (wechattest.Options{Followers: math.MaxInt32, Tags: tags}).Validate(); err != nil {
			t.Fatalf("parseTags(%q) = %v, which Validate refuses: %v", s, tags, err)
		}
	})
}

func FuzzParsePercent(f *testing.F) {
	for _, s := range []string{"30%", "0%", "100%", "12.5%", "101%", "-1%", "NaN%", "Inf%", "0x1p-2%", "1e2%", "%", "30"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parsePercent(s)
		if err != nil {
			return
		}
		if !(p >= 0 && p <= 100) || !strings.HasSuffix(strings.TrimSpace(s), "%") {
			t.Fatalf("parsePercent(%q) = %v", s, p)
		}
		if err := (wechattest.Options{Interacted: &wechattest.Audience{Percent: p}}).Validate(); err != nil {
			t.Fatalf("parsePercent(%q) = %v, which Validate refuses: %v", s, p, err)
		}
	})
}
