package wechattest

// Who a message of each kind can reach. WeChat decides by state the
// simulator has no way to observe (a user's last interaction, what they
// subscribed to); an Audience stands in for it: a list of openids, or a
// share of all openids picked by a hash, so that the same openid is in or
// out on every run and in every process without a list to share.

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Audience is a set of openids: those in OpenIDs, and a Percent share of
// all openids chosen by a hash of the openid (the same on every run).
type Audience struct {
	OpenIDs []string
	// Percent, from 0 to 100, is the share of every openid included
	// besides OpenIDs.
	Percent float64
}

// audience is an Audience ready for lookups. A nil *audience holds every
// openid: the option was not set.
type audience struct {
	ids  map[string]bool
	frac float64 // Percent/100
}

// newAudience compiles a; nil stays nil.
func newAudience(a *Audience) *audience {
	if a == nil {
		return nil
	}
	ids := make(map[string]bool, len(a.OpenIDs))
	for _, id := range a.OpenIDs {
		ids[id] = true
	}
	return &audience{ids: ids, frac: a.Percent / 100}
}

// has reports whether openID is in the audience.
func (a *audience) has(openID string) bool {
	if a == nil || a.ids[openID] {
		return true
	}
	return a.frac > 0 && shareOf(openID) < a.frac
}

// shareOf maps openID to [0, 1) by its SHA-256: openids are uniformly
// spread, and one in [0, p) is in a p share.
func shareOf(openID string) float64 {
	sum := sha256.Sum256([]byte(openID))
	return float64(binary.BigEndian.Uint64(sum[:8])>>11) / (1 << 53)
}

// validate reports what is wrong with a, for the option named field.
func (a *Audience) validate(field string) error {
	if a == nil {
		return nil
	}
	if !(a.Percent >= 0 && a.Percent <= 100) { // NaN too
		return &OptionError{field, fmt.Sprintf("Percent %v is not from 0 to 100", a.Percent)}
	}
	return nil
}

// Tag is one of the account's tags over the synthetic followers: Count of
// them, spread evenly over the follower list.
type Tag struct {
	Name  string
	Count int
}

// maxTagName is the longest tag name WeChat's tags/create takes, in
// characters.
const maxTagName = 30

// validateTags reports what is wrong with tags for followers followers.
func validateTags(tags []Tag, followers int) error {
	seen := make(map[string]bool, len(tags))
	for i, t := range tags {
		field := fmt.Sprintf("Tags[%d]", i)
		switch {
		case strings.TrimSpace(t.Name) == "":
			return &OptionError{field, "empty name"}
		case utf8.RuneCountInString(t.Name) > maxTagName:
			return &OptionError{field, fmt.Sprintf("name %q longer than %d characters, which WeChat refuses", t.Name, maxTagName)}
		case seen[t.Name]:
			return &OptionError{field, fmt.Sprintf("name %q given twice", t.Name)}
		case t.Count < 0:
			return &OptionError{field, fmt.Sprintf("count %d is negative", t.Count)}
		case t.Count > followers:
			return &OptionError{field, fmt.Sprintf("count %d is more than the %d followers", t.Count, followers)}
		}
		seen[t.Name] = true
	}
	return nil
}
