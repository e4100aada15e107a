package main

import (
	"go/build"
	"path"
	"slices"
	"strings"
	"testing"
)

// TestArchitecture holds the imports to the one direction ARCHITECTURE.md
// draws: each package may import only the megasend packages listed for it.
// A new package, or a new import, is a decision: make it here and there.
func TestArchitecture(t *testing.T) {
	const mod = "github.com/megasend/megasend"
	leaves := []string{"store", "template", "recipient", "wechat", "policy"}
	allowed := map[string][]string{
		"store": nil, "template": nil, "recipient": nil, "wechat": nil, "policy": nil,
		"wechat/wechattest": {"template"},
		"sender":            leaves,
		"campaign":          append([]string{"sender"}, leaves...),
		"metrics":           {"store", "wechat"},
		"cmd":               append([]string{"apikey", "campaign", "metrics", "sender", "wechat/wechattest"}, leaves...),
		"server":            append([]string{"apikey", "campaign", "server/web"}, leaves...),
		"server/web":        {"apikey", "campaign", "store", "recipient", "template"},
		"apikey":            {"store"},
		"bench":             leaves,
		".":                 {"cmd", "server"},
	}
	for dir, ok := range allowed {
		pkg, err := build.ImportDir(dir, 0)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		for _, imp := range pkg.Imports {
			rel, found := strings.CutPrefix(imp, mod+"/")
			if !found {
				continue
			}
			if !slices.Contains(ok, rel) {
				t.Errorf("%s imports %s, which ARCHITECTURE.md does not allow (allowed: %v)", path.Join(mod, dir), imp, ok)
			}
		}
	}
}
