package wechattest

// The follower set is synthetic and deterministic: the same AppID and
// Followers always give the same openids in the same order, so a script can
// list followers in one process and send to them through another sandbox.

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
)

// userPageSize is WeChat's page size for user/get: at most 10000 openids.
const userPageSize = 10000

// tagDef is one synthetic tag: followers at index i with i%every == 0, or
// with i < first, or (count > 0) count of them spread evenly.
type tagDef struct {
	id    int
	name  string
	every int
	first int
	count int
}

// defaultTags are the account's tags when Options.Tags is empty. Read-only.
var defaultTags = []tagDef{
	{id: 2, name: "星标组", every: 10},
	{id: 100, name: "VIP客户", every: 100},
	{id: 101, name: "内测用户", first: 20},
}

// firstTagID is the id WeChat gives an account's first own tag; 0 to 99
// are its system tags (2 is 星标组).
const firstTagID = 100

// tagDefsOf returns the tags Options.Tags define, or the defaults.
func tagDefsOf(tags []Tag) []tagDef {
	if len(tags) == 0 {
		return defaultTags
	}
	defs := make([]tagDef, len(tags))
	for i, t := range tags {
		// count 0 is a tag with no member: every and first stay 0.
		defs[i] = tagDef{id: firstTagID + i, name: t.Name, count: t.Count}
	}
	return defs
}

// has reports whether follower i of n carries the tag. For count, follower
// i is a member if floor(i*count/n) steps up at i: with count <= n that
// happens exactly count times, evenly spaced, the first at i = 0.
func (t tagDef) has(i, n int) bool {
	if t.count > 0 {
		return i == 0 || i*t.count/n != (i-1)*t.count/n
	}
	return (t.every > 0 && i%t.every == 0) || i < t.first
}

// followerSet is the generated followers with an index for next_openid.
type followerSet struct {
	ids   []string
	index map[string]int
}

// followerSet returns the follower set, generating it on first use.
func (s *Sim) followerSet() *followerSet {
	s.followersOnce.Do(func() {
		s.followers = makeFollowers(s.opts.AppID, s.opts.Followers, s.unfollowed)
	})
	return s.followers
}

// isFollower reports whether a well-formed openid follows the account: any
// does unless Options.Followers made membership real.
func (s *Sim) isFollower(openID string) bool {
	if !s.strictFollowers {
		return true
	}
	_, ok := s.followerSet().index[openID]
	return ok
}

// tagIDsOf returns the ids of the tags follower openID carries, in tag
// order, and whether it is in the follower set at all.
func (s *Sim) tagIDsOf(openID string) ([]int, bool) {
	f := s.followerSet()
	i, ok := f.index[openID]
	if !ok {
		return nil, false
	}
	ids := []int{}
	for _, t := range s.tags {
		if t.has(i, len(f.ids)) {
			ids = append(ids, t.id)
		}
	}
	return ids, true
}

// makeFollowers generates n openids for appID, skipping excluded ones.
// Like real openids they share a per-account prefix ("o" + 5 characters)
// and are 28 characters of [A-Za-z0-9_-].
func makeFollowers(appID string, n int, excluded map[string]bool) *followerSet {
	enc := base64.RawURLEncoding
	sum := sha256.Sum256([]byte(appID))
	prefix := "o" + enc.EncodeToString(sum[:])[:5]
	set := &followerSet{ids: make([]string, 0, n), index: make(map[string]int, n)}
	for i := 0; len(set.ids) < n; i++ {
		sum := sha256.Sum256([]byte(appID + "/" + strconv.Itoa(i)))
		id := prefix + enc.EncodeToString(sum[:])[:22]
		if excluded[id] {
			continue
		}
		if _, dup := set.index[id]; dup {
			continue
		}
		set.index[id] = len(set.ids)
		set.ids = append(set.ids, id)
	}
	return set
}

// openIDList is the data object of the user list endpoints.
type openIDList struct {
	OpenID []string `json:"openid"`
}

// userPage is the success body of user/get and, without Total, tag/get.
// Data is omitted on an empty page: the reference notes report WeChat may
// do so, and a client must cope.
type userPage struct {
	Total      *int        `json:"total,omitempty"`
	Count      int         `json:"count"`
	Data       *openIDList `json:"data,omitempty"`
	NextOpenID string      `json:"next_openid"`
}

// pageFrom returns up to userPageSize of ids from index start on. Its
// next_openid is the page's last openid, or "" once the list is exhausted.
func pageFrom(ids []string, start int) userPage {
	end := min(start+userPageSize, len(ids))
	p := userPage{Count: max(end-start, 0)}
	if p.Count > 0 {
		p.Data = &openIDList{OpenID: ids[start:end]}
		if end < len(ids) {
			p.NextOpenID = ids[end-1]
		}
	}
	return p
}

// serveUserGet is GET /cgi-bin/user/get?next_openid=.
func (s *Sim) serveUserGet(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r) {
		return
	}
	f := s.followerSet()
	start := 0
	if next := r.URL.Query().Get("next_openid"); next != "" {
		i, ok := f.index[next]
		if !ok {
			s.writeError(w, codeInvalidOpenID)
			return
		}
		start = i + 1
	}
	p := pageFrom(f.ids, start)
	total := len(f.ids)
	p.Total = &total
	writeJSON(w, p)
}

// tagRequest is the body of user/tag/get.
type tagRequest struct {
	TagID      int    `json:"tagid"`
	NextOpenID string `json:"next_openid"`
}

// serveTagGet is POST /cgi-bin/user/tag/get: a tag's followers, paged like
// user/get but without total. An unknown tagid answers 45159.
func (s *Sim) serveTagGet(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r) {
		return
	}
	var req tagRequest
	if !s.decodePOST(w, r, &req) {
		return
	}
	tag, ok := s.findTag(req.TagID)
	if !ok {
		s.writeError(w, codeInvalidTag)
		return
	}
	members := s.followerSet().tagged(tag)
	start := 0
	if req.NextOpenID != "" {
		i := slices.Index(members, req.NextOpenID)
		if i < 0 {
			s.writeError(w, codeInvalidOpenID)
			return
		}
		start = i + 1
	}
	writeJSON(w, pageFrom(members, start))
}

// tagged returns the followers carrying tag, in follower order.
func (f *followerSet) tagged(tag tagDef) []string {
	var ids []string
	for i, id := range f.ids {
		if tag.has(i, len(f.ids)) {
			ids = append(ids, id)
		}
	}
	return ids
}

// findTag returns the tag with id.
func (s *Sim) findTag(id int) (tagDef, bool) {
	for _, t := range s.tags {
		if t.id == id {
			return t, true
		}
	}
	return tagDef{}, false
}

// tagInfo is one entry of tags/get.
type tagInfo struct {
	ID    int    `json:"id"`
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// serveTagsGet is GET /cgi-bin/tags/get.
func (s *Sim) serveTagsGet(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r) {
		return
	}
	f := s.followerSet()
	tags := make([]tagInfo, 0, len(s.tags))
	for _, t := range s.tags {
		tags = append(tags, tagInfo{ID: t.id, Name: t.name, Count: len(f.tagged(t))})
	}
	writeJSON(w, struct {
		Tags []tagInfo `json:"tags"`
	}{tags})
}
