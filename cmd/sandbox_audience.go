package cmd

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/megasend/megasend/wechat/wechattest"
)

// Flags of megasend sandbox about followers and who each kind of message
// reaches.
const (
	flgSandboxTags       = "tags"
	flgSandboxInteracted = "interacted"
	flgSandboxSubscribed = "subscribed"
)

// sandboxOptionFlags names the flag of each wechattest.Options field
// Validate may refuse, by the field's name up to any index ("Tags[2]").
var sandboxOptionFlags = map[string]string{
	"CallbackURL":    flgSandboxCallback,
	"CallbackToken":  flgSandboxCallbackToken,
	"CallbackAESKey": flgSandboxCallbackAESKey,
	"Tags":           flgSandboxTags,
	"Interacted":     flgSandboxInteracted,
	"Subscribed":     flgSandboxSubscribed,
}

// flagOfField returns the flag of an Options field Validate named, "" if
// none.
func flagOfField(field string) string {
	name, _, _ := strings.Cut(field, "[")
	return sandboxOptionFlags[name]
}

// audienceOptions fills in followers, tags and the audiences of custom
// messages and subscribe notifications. Bad values are usage errors naming
// the flag (and for a file, its line).
func (o sandboxOptions) audienceOptions(opts *wechattest.Options) error {
	var err error
	if o.followersSet {
		// Given, --followers makes membership real: a send to anyone else
		// answers 40003, as WeChat does.
		if opts.Followers, err = zeroMeansNone(o.followers, flgSandboxFollowers); err != nil {
			return err
		}
	}
	if opts.Tags, err = parseTags(o.tags); err != nil {
		return usageErrorf("--%s: %w", flgSandboxTags, err)
	}
	if opts.Interacted, err = readAudience(flgSandboxInteracted, o.interacted); err != nil {
		return err
	}
	opts.Subscribed, err = readAudience(flgSandboxSubscribed, o.subscribed)
	return err
}

// readAudience reads a flag that is either a share of every openid ("30%")
// or a file of openids, one per line; "" is nil, the flag not given.
func readAudience(flag, value string) (*wechattest.Audience, error) {
	value = strings.TrimSpace(value)
	switch {
	case value == "":
		return nil, nil
	case strings.HasSuffix(value, "%"):
		p, err := parsePercent(value)
		if err != nil {
			return nil, usageErrorf("--%s: %w", flag, err)
		}
		return &wechattest.Audience{Percent: p}, nil
	}
	ids, err := readOpenIDFile(flag, value)
	if err != nil {
		return nil, err
	}
	return &wechattest.Audience{OpenIDs: ids}, nil
}

// parsePercent parses "P%", P a decimal number from 0 to 100.
func parsePercent(s string) (float64, error) {
	num, ok := strings.CutSuffix(strings.TrimSpace(s), "%")
	num = strings.TrimSpace(num)
	p, err := strconv.ParseFloat(num, 64)
	// ParseFloat takes "NaN", "Inf" and hex floats: none is a share.
	if !ok || err != nil || math.IsNaN(p) || strings.ContainsAny(num, "xXnNiI_") {
		return 0, fmt.Errorf("%q is not a percentage such as 30%% (or a file of openids)", s)
	}
	if p < 0 || p > 100 {
		return 0, fmt.Errorf("%q: want a percentage from 0%% to 100%%", s)
	}
	return p, nil
}

// maxTagName is the longest tag name WeChat takes, in characters.
const maxTagName = 30

// parseTags parses "NAME=COUNT,...": tags over the synthetic followers,
// each with COUNT of them. "" is none (the sandbox's default tags).
func parseTags(s string) ([]wechattest.Tag, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var tags []wechattest.Tag
	seen := map[string]bool{}
	for i, item := range strings.Split(s, ",") {
		name, count, ok := strings.Cut(item, "=")
		name = strings.TrimSpace(name)
		n, err := strconv.Atoi(strings.TrimSpace(count))
		switch {
		case !ok || name == "":
			return nil, fmt.Errorf("item %d %q: want NAME=COUNT, such as vip=300", i+1, item)
		case err != nil || n < 0:
			return nil, fmt.Errorf("item %d %q: COUNT must be a whole number, 0 or more", i+1, item)
		case n > math.MaxInt32:
			// A tag holds some of the followers, and WeChat counts them in
			// 32 bits (user/get's total).
			return nil, fmt.Errorf("item %d %q: COUNT is more than any account's followers", i+1, item)
		case !utf8.ValidString(name):
			return nil, fmt.Errorf("item %d: tag name %q is not valid UTF-8", i+1, name)
		case utf8.RuneCountInString(name) > maxTagName:
			return nil, fmt.Errorf("item %d: tag name %q is longer than WeChat's %d characters", i+1, name, maxTagName)
		case seen[name]:
			return nil, fmt.Errorf("item %d: tag %q given twice", i+1, name)
		}
		seen[name] = true
		tags = append(tags, wechattest.Tag{Name: name, Count: n})
	}
	return tags, nil
}
