package campaign

import (
	"fmt"
	"hash/maphash"
	"slices"

	"github.com/megasend/megasend/recipient"
)

// openIDSet is an audience held for membership tests: a 64-bit hash of
// each openid, not the openid, so five million followers (WeChat's daily
// paging limit) take about 100 MB rather than 400. Two openids share a
// hash with odds of rows×followers/2^64 (under one in 10^6 for a million
// of each); the only harm would be one non-follower kept, whom WeChat
// refuses with a recipient error.
type openIDSet struct {
	seed maphash.Seed
	m    map[uint64]struct{}
}

func newOpenIDSet() *openIDSet {
	return &openIDSet{seed: maphash.MakeSeed(), m: map[uint64]struct{}{}}
}

func (s *openIDSet) add(id string) { s.m[maphash.String(s.seed, id)] = struct{}{} }

func (s *openIDSet) has(id string) bool {
	_, ok := s.m[maphash.String(s.seed, id)]
	return ok
}

// rowFilter shapes a users file's rows on their way into a batch: the
// shared variables added to each, and the rows outside an audience left
// out. The zero value imports every row as it is.
type rowFilter struct {
	// set is the variables every row gets. A row that has one of them
	// itself is an error: which of the two values was meant cannot be
	// guessed, and a silent choice would send the wrong one.
	set []recipient.Var
	// keep, if set, says whether a row's openid is in the audience.
	keep func(openid string) bool
	// audience names it in messages.
	audience string
}

// withSet returns row with the shared variables added, or false when the
// row has one of them (reported, on the row's line; a CSV column that
// clashes is reported once, from the header).
func (c *checker) withSet(row recipient.Row) (recipient.Row, bool) {
	if len(c.set) == 0 {
		return row, true
	}
	for _, v := range c.set {
		if _, has := row.Lookup(v.Name); has {
			if !c.setClash[v.Name] {
				c.errs.AddAt(c.file, row.Line, v.Name, setClashMsg(v.Name))
			}
			return row, false
		}
	}
	row.Vars = append(slices.Clip(row.Vars), c.set...)
	return row, true
}

// setHeader reports the CSV columns that --set gives too, once, on the
// header's line, and counts the shared variables as columns the file has.
func (c *checker) setHeader(columns []string, has map[string]bool) {
	for _, v := range c.set {
		if slices.Contains(columns, v.Name) {
			if c.setClash == nil {
				c.setClash = map[string]bool{}
			}
			c.setClash[v.Name] = true
			c.errs.AddAt(c.file, 1, v.Name, setClashMsg(v.Name))
		}
		has[v.Name] = true
	}
}

func setClashMsg(name string) string {
	return fmt.Sprintf("the file has %s and --set %s=... gives it too; a recipient's own value and a shared one must not both say it: drop one",
		name, name)
}
