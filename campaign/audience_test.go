package campaign

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/megasend/megasend/recipient"
	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/wechat"
	"github.com/megasend/megasend/wechat/wechattest"
)

// pager wraps the account's client to count the pages asked for and, with
// stopAfter, to cancel the import's context once that many were served,
// as a signal would mid-paging.
type pager struct {
	Followers
	pages     atomic.Int64
	stopAfter int64
	stop      context.CancelFunc
}

func (p *pager) served() {
	if n := p.pages.Add(1); p.stopAfter > 0 && n == p.stopAfter {
		p.stop()
	}
}

func (p *pager) FollowersPage(ctx context.Context, next string) (wechat.FollowerPage, error) {
	pg, err := p.Followers.FollowersPage(ctx, next)
	p.served()
	return pg, err
}

func (p *pager) TagFollowersPage(ctx context.Context, tagID int, next string) (wechat.FollowerPage, error) {
	pg, err := p.Followers.TagFollowersPage(ctx, tagID, next)
	p.served()
	return pg, err
}

// audienceServer is a simulator with n followers.
func audienceServer(t *testing.T, n int) *wechattest.Server {
	t.Helper()
	srv := wechattest.NewServer(wechattest.Options{Followers: n})
	t.Cleanup(srv.Close)
	return srv
}

// audience returns the AudienceSource for spec with the shared variables
// set, paged through p.
func audience(t *testing.T, spec string, p Followers, set ...string) *AudienceSource {
	t.Helper()
	a, err := ParseAudience(spec)
	if err != nil {
		t.Fatal(err)
	}
	vars, err := ParseSet(set)
	if err != nil {
		t.Fatal(err)
	}
	return &AudienceSource{Audience: a, Set: vars, Followers: p}
}

// TestAudience_Followers: 25,000 followers, three pages, are snapshotted
// and each delivered exactly once, with the shared variable.
func TestAudience_Followers(t *testing.T) {
	f := newFixture(t)
	srv := audienceServer(t, 25000)
	tmpl := newTemplate(t, "k", sandboxTemplateID())
	p := &pager{Followers: f.client(srv)}
	au := audience(t, "followers", p, "name=大家")
	var progress []string
	au.Paged = func(n, total int64) { progress = append(progress, fmt.Sprintf("%d/%d", n, total)) }
	b, imp, err := f.svc.Create(context.Background(), Spec{Name: "all", Template: tmpl, TemplateRef: "k", Audience: au, Preview: 1})
	if err != nil {
		t.Fatal(err)
	}
	if b.Total != 25000 || imp.Total != 25000 || b.Status != store.StatusReady {
		t.Fatalf("batch %+v, imported %+v; want 25000 ready", b.Batch, imp.ImportResult)
	}
	if want := []string{"10000/25000", "20000/25000", "25000/25000"}; !slices.Equal(progress, want) {
		t.Errorf("progress %v, want %v", progress, want)
	}
	if len(imp.Previews) != 1 || !strings.Contains(string(imp.Previews[0]), "大家") {
		t.Errorf("previews %q", imp.Previews)
	}
	f.run(context.Background(), b, srv, RunOptions{Concurrency: 8})
	if n := delivered(t, srv); n != 25000 {
		t.Errorf("%d delivered, want 25000", n)
	}
	for _, d := range srv.Deliveries()[:3] {
		if !strings.Contains(string(d.Data), "大家") {
			t.Errorf("delivery %s lacks the shared variable", d.Data)
		}
	}
}

// TestAudience_Tag: a tag by name and by id is the same audience (the same
// batch continues), and an unknown tag is refused naming the tags there
// are, with nothing recorded.
func TestAudience_Tag(t *testing.T) {
	f := newFixture(t)
	srv := audienceServer(t, 25000)
	tmpl := newTemplate(t, "k", sandboxTemplateID())
	c := f.client(srv)
	b, _, err := f.svc.Create(context.Background(), Spec{Name: "vip", Template: tmpl, Audience: audience(t, "tag:VIP客户", c, "name=x")})
	if err != nil {
		t.Fatal(err)
	}
	if b.Total != 250 { // every hundredth follower
		t.Fatalf("tag VIP客户: %d recipients, want 250", b.Total)
	}
	if !strings.Contains(DescribeSource(b.SourcePath), "tag:100 (VIP客户)") {
		t.Errorf("source %q", DescribeSource(b.SourcePath))
	}
	f.svc.Release(context.Background(), b)
	p := &pager{Followers: c}
	again, _, err := f.svc.Create(context.Background(), Spec{Name: "vip", Template: tmpl, Audience: audience(t, "tag:100", p, "name=x")})
	if err != nil {
		t.Fatalf("tag:100 after tag:VIP客户: %v", err)
	}
	if again.ID != b.ID || p.pages.Load() != 0 {
		t.Errorf("tag:100 made batch %d with %d pages; want batch %d continued without paging", again.ID, p.pages.Load(), b.ID)
	}
	f.svc.Release(context.Background(), again)

	_, _, err = f.svc.Create(context.Background(), Spec{Name: "nope", Template: tmpl, Audience: audience(t, "tag:nope", c, "name=x")})
	if ErrorCode(err) != Invalid || !strings.Contains(err.Error(), "VIP客户 (id 100, 250 followers)") {
		t.Errorf("unknown tag: %v; want Invalid naming the tags", err)
	}
	if _, err := f.db.Batch(context.Background(), "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown tag recorded a batch: %v", err)
	}
}

// TestAudience_SameContent: the same name, audience and variables continue
// the batch without paging it again; other variables are a Conflict.
func TestAudience_SameContent(t *testing.T) {
	f := newFixture(t)
	srv := audienceServer(t, 300)
	tmpl := newTemplate(t, "k", sandboxTemplateID())
	c := f.client(srv)
	b, _, err := f.svc.Create(context.Background(), Spec{Name: "cron", Template: tmpl, Audience: audience(t, "followers", c, "name=a")})
	if err != nil {
		t.Fatal(err)
	}
	f.svc.Release(context.Background(), b)
	p := &pager{Followers: c}
	if _, _, err := f.svc.Create(context.Background(), Spec{Name: "cron", Template: tmpl, Audience: audience(t, "followers", p, "name=a")}); err != nil {
		t.Fatalf("the same audience again: %v", err)
	}
	if p.pages.Load() != 0 {
		t.Errorf("a complete snapshot was paged again (%d pages)", p.pages.Load())
	}
	_, _, err = f.svc.Create(context.Background(), Spec{Name: "cron", Template: tmpl, Audience: audience(t, "followers", c, "name=b")})
	if ErrorCode(err) != Conflict || !strings.Contains(err.Error(), "--set name=b") {
		t.Errorf("other variables: %v; want Conflict naming them", err)
	}
}

// TestAudience_ResumeInterruptedPaging: a paging stopped after its first
// page leaves the batch importing (not sendable); the resume pages it
// again from the start, and every follower is delivered once. A resume of
// a complete snapshot sends to it, not to whoever follows since.
func TestAudience_ResumeInterruptedPaging(t *testing.T) {
	f := newFixture(t)
	srv := audienceServer(t, 25000)
	tmpl := newTemplate(t, "k", sandboxTemplateID())
	ctx, cancel := context.WithCancel(context.Background())
	p := &pager{Followers: f.client(srv), stopAfter: 2, stop: cancel}
	b, _, err := f.svc.Create(ctx, Spec{Name: "killed", Template: tmpl, Audience: audience(t, "followers", p, "name=x")})
	if ErrorCode(err) != Stopped || b == nil {
		t.Fatalf("interrupted paging: %v; want Stopped with the batch", err)
	}
	f.svc.Release(context.Background(), b)
	if got, _ := f.db.Batch(context.Background(), "killed"); got.Status != store.StatusImporting {
		t.Fatalf("status %s, want importing", got.Status)
	}
	// The account gained followers meanwhile: the resume pages them all.
	grown := audienceServer(t, 26000)
	r, _, err := f.svc.Resume(context.Background(), ResumeSpec{Name: "killed", Followers: f.client(grown)})
	if err != nil {
		t.Fatal(err)
	}
	if r.Total != 26000 || r.Status != store.StatusReady {
		t.Fatalf("resumed: %d recipients, %s; want 26000 ready", r.Total, r.Status)
	}
	f.svc.Release(context.Background(), r)

	// Complete now: a later resume pages nothing, whatever the account has.
	shrunk := &pager{Followers: f.client(audienceServer(t, 100))}
	r, _, err = f.svc.Resume(context.Background(), ResumeSpec{Name: "killed", Followers: shrunk})
	if err != nil {
		t.Fatal(err)
	}
	if shrunk.pages.Load() != 0 || r.Total != 26000 {
		t.Errorf("resume of a complete snapshot paged %d pages, %d recipients", shrunk.pages.Load(), r.Total)
	}
	f.run(context.Background(), r, grown, RunOptions{Concurrency: 8})
	if n := delivered(t, grown); n != 26000 {
		t.Errorf("%d delivered, want 26000", n)
	}
}

// followerIDs returns the first n openids srv's followers page gives.
func followerIDs(t *testing.T, c Followers, n int) []string {
	t.Helper()
	p, err := c.FollowersPage(context.Background(), "")
	if err != nil || len(p.OpenIDs) < n {
		t.Fatalf("followers: %v (%d)", err, len(p.OpenIDs))
	}
	return p.OpenIDs[:n]
}

// TestAudience_UsersWithin: a users file restricted to the audience keeps
// its followers' rows, each with its own variables and the shared ones,
// and counts the rest as outside.
func TestAudience_UsersWithin(t *testing.T) {
	f := newFixture(t)
	srv := audienceServer(t, 500)
	c := f.client(srv)
	tmpl, err := parseTemplate("k", `{"touser":"${openid}","template_id":"`+sandboxTemplateID()+`","data":{"keyword1":{"value":"${name} ${promo}"}}}`)
	if err != nil {
		t.Fatal(err)
	}
	var csv strings.Builder
	csv.WriteString("openid,name\n")
	for i, id := range followerIDs(t, c, 4) {
		fmt.Fprintf(&csv, "%s,follower%d\n", id, i)
	}
	for i := range 3 {
		fmt.Fprintf(&csv, "%s,gone%d\n", openid(i), i)
	}
	users := f.source(writeFile(t, f.dir, "users.csv", csv.String()))
	au := audience(t, "followers", c, "promo=SALE")
	au.Users = &users
	b, imp, err := f.svc.Create(context.Background(), Spec{Name: "within", Template: tmpl, Audience: au})
	if err != nil {
		t.Fatal(err)
	}
	if b.Total != 4 || imp.Outside != 3 || imp.Rows != 7 {
		t.Fatalf("%d recipients, %d outside of %d rows; want 4, 3, 7", b.Total, imp.Outside, imp.Rows)
	}
	f.run(context.Background(), b, srv, RunOptions{Concurrency: 8})
	if n := delivered(t, srv); n != 4 {
		t.Errorf("%d delivered, want 4", n)
	}
	for _, d := range srv.Deliveries() {
		if !strings.Contains(string(d.Data), "follower") || !strings.Contains(string(d.Data), "SALE") {
			t.Errorf("delivery %s: want its own name and the shared promo", d.Data)
		}
	}
}

// TestAudience_SetClash: a users file that has a variable --set gives too is
// refused, a CSV once on its header, a JSONL file on each such line, and
// nothing is kept.
func TestAudience_SetClash(t *testing.T) {
	f := newFixture(t)
	srv := audienceServer(t, 50)
	c := f.client(srv)
	tmpl := newTemplate(t, "k", sandboxTemplateID())
	ids := followerIDs(t, c, 2)
	for _, tc := range []struct{ file, content, want string }{
		{"u.csv", "openid,name\n" + ids[0] + ",a\n" + ids[1] + ",b\n", "u.csv:1: name: the file has name and --set"},
		{"u.jsonl", `{"openid":"` + ids[0] + `"}` + "\n" + `{"openid":"` + ids[1] + `","name":"b"}` + "\n", "u.jsonl:2: name: the file has name"},
	} {
		users := f.source(writeFile(t, f.dir, tc.file, tc.content))
		au := audience(t, "followers", c, "name=shared")
		au.Users = &users
		_, _, err := f.svc.Create(context.Background(), Spec{Name: tc.file, Template: tmpl, Audience: au})
		ps := ErrorProblems(err)
		if ErrorCode(err) != Invalid || ps == nil || len(ps.Sorted()) != 1 || !strings.Contains(ps.Sorted()[0].String(), tc.want) {
			t.Errorf("%s: %v %v; want one problem %q", tc.file, err, ps, tc.want)
		}
		if _, err := f.db.Batch(context.Background(), tc.file); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: batch kept: %v", tc.file, err)
		}
	}
}

// TestAudience_SetCoversTemplate: an audience's recipients have nothing but
// the shared variables: a variable the template needs that --set lacks is
// refused before anything is paged or recorded.
func TestAudience_SetCoversTemplate(t *testing.T) {
	f := newFixture(t)
	srv := audienceServer(t, 50)
	p := &pager{Followers: f.client(srv)}
	tmpl := newTemplate(t, "k", sandboxTemplateID())
	for _, set := range [][]string{nil, {"other=1"}, {"name="}} {
		_, _, err := f.svc.Create(context.Background(), Spec{Name: "b", Template: tmpl, Audience: audience(t, "followers", p, set...)})
		ps := ErrorProblems(err)
		if ErrorCode(err) != Invalid || ps == nil || ps.Sorted()[0].Field != "name" || ps.Sorted()[0].File != "--set" {
			t.Errorf("--set %v: %v; want Invalid naming --set and name", set, err)
		}
	}
	if p.pages.Load() != 0 {
		t.Errorf("%d pages asked for a refused request", p.pages.Load())
	}
	if _, err := f.db.Batch(context.Background(), "b"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("batch kept: %v", err)
	}
}

// script is a Followers that serves fixed pages in turn, then an error.
type script struct {
	pages []wechat.FollowerPage
	errs  []error // before the page of the same index, once
	calls int
}

func (s *script) FollowersPage(ctx context.Context, next string) (wechat.FollowerPage, error) {
	i := s.calls
	s.calls++
	if i < len(s.errs) && s.errs[i] != nil {
		err := s.errs[i]
		s.errs[i] = nil
		s.calls--
		return wechat.FollowerPage{}, err
	}
	if i >= len(s.pages) {
		return wechat.FollowerPage{}, fmt.Errorf("page %d asked for: the list ended", i)
	}
	return s.pages[i], nil
}

func (s *script) TagFollowersPage(ctx context.Context, _ int, next string) (wechat.FollowerPage, error) {
	return s.FollowersPage(ctx, next)
}

func (s *script) Tags(context.Context) ([]wechat.Tag, error) { return nil, nil }

// TestPageAudience: paging ends at an empty page (with or without a
// repeated next_openid), at an empty next_openid, and at a next_openid
// already seen; a transient error is asked again.
func TestPageAudience(t *testing.T) {
	page := func(next string, ids ...string) wechat.FollowerPage {
		return wechat.FollowerPage{OpenIDs: ids, NextOpenID: next}
	}
	busy := &wechat.APIError{Op: "user/get", Code: -1, Class: wechat.ClassTransient}
	for _, tc := range []struct {
		name string
		s    *script
		want int64
	}{
		{"empty next", &script{pages: []wechat.FollowerPage{page("b", "a", "b"), page("", "c")}}, 3},
		{"empty last page", &script{pages: []wechat.FollowerPage{page("b", "a", "b"), page("c", "c"), page("")}}, 3},
		{"empty page repeating next", &script{pages: []wechat.FollowerPage{page("b", "a", "b"), page("b")}}, 2},
		{"next seen before", &script{pages: []wechat.FollowerPage{page("b", "a", "b"), page("b", "c"), page("b", "d")}}, 3},
		{"busy once", &script{errs: []error{nil, busy}, pages: []wechat.FollowerPage{page("b", "a", "b"), page("", "c")}}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			n, err := pageAudience(context.Background(), tc.s, audienceRecord{Audience: "followers"}, nil,
				func(id string) error { got = append(got, id); return nil })
			if err != nil || n != tc.want || int64(len(got)) != tc.want {
				t.Errorf("paged %d (%v), err %v; want %d", n, got, err, tc.want)
			}
		})
	}
	fatal := &wechat.APIError{Op: "user/get", Code: 48001, Class: wechat.ClassFatal}
	s := &script{errs: []error{fatal}, pages: []wechat.FollowerPage{page("", "a")}}
	if _, err := pageAudience(context.Background(), s, audienceRecord{Audience: "followers"}, nil, func(string) error { return nil }); !errors.Is(err, fatal) {
		t.Errorf("a fatal error: %v; want it returned", err)
	}
}

// TestAudienceRecord: the record round-trips through the batch's source
// path, and its identity ignores the tag's name and size and the users
// file's place, not its content.
func TestAudienceRecord(t *testing.T) {
	r := audienceRecord{Audience: "tag:100", TagName: "VIP", Count: 5, Set: map[string]string{"b": "2", "a": "1"},
		Users: "/x/u.csv", UsersHash: "abc"}
	src := r.source()
	back, err := parseAudienceRecord(src.Path)
	if err != nil || back.tagID() != 100 || !slices.Equal(back.vars(), []recipient.Var{{Name: "a", Value: "1"}, {Name: "b", Value: "2"}}) {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	moved := r
	moved.TagName, moved.Count, moved.Users = "renamed", 9, "/y/u.csv"
	if moved.source().Hash != src.Hash {
		t.Error("a renamed tag or a moved users file changed the identity")
	}
	for _, other := range []audienceRecord{
		{Audience: "tag:101", Set: r.Set, UsersHash: "abc"},
		{Audience: "tag:100", Set: map[string]string{"a": "1"}, UsersHash: "abc"},
		{Audience: "tag:100", Set: r.Set, UsersHash: "abd"},
	} {
		if other.source().Hash == src.Hash {
			t.Errorf("%+v has the identity of %+v", other, r)
		}
	}
}
