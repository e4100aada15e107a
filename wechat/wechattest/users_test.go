package wechattest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"testing"
)

// page is a user/get or tag/get answer.
type page struct {
	Total *int `json:"total"`
	Count int  `json:"count"`
	Data  *struct {
		OpenID []string `json:"openid"`
	} `json:"data"`
	NextOpenID string `json:"next_openid"`
}

func getUsers(t *testing.T, srv *Server, tok, next string) page {
	t.Helper()
	r := do(t, srv.Client(), "GET", srv.URL+"/cgi-bin/user/get?access_token="+tok+"&next_openid="+url.QueryEscape(next), "")
	return decodePage(t, r)
}

func getTag(t *testing.T, srv *Server, tok string, tag int, next string) page {
	t.Helper()
	r := post(t, srv, "/cgi-bin/user/tag/get", tok, fmt.Sprintf(`{"tagid":%d,"next_openid":%q}`, tag, next))
	return decodePage(t, r)
}

func decodePage(t *testing.T, r reply) page {
	t.Helper()
	if r.Errcode != 0 {
		t.Fatalf("list: %s", r.Body)
	}
	var p page
	if err := json.Unmarshal([]byte(r.Body), &p); err != nil {
		t.Fatal(err)
	}
	if p.Data != nil && len(p.Data.OpenID) != p.Count {
		t.Fatalf("count %d but %d openids", p.Count, len(p.Data.OpenID))
	}
	return p
}

func TestUserGet_Paging(t *testing.T) {
	srv := mustServer(t, Options{})
	tok := mustToken(t, srv)
	seen := make(map[string]bool)
	var counts []int
	next := ""
	for {
		p := getUsers(t, srv, tok, next)
		if p.Total == nil || *p.Total != 25000 {
			t.Fatalf("total %v, want 25000", p.Total)
		}
		counts = append(counts, p.Count)
		for _, id := range p.Data.OpenID {
			if !openIDPattern.MatchString(id) || seen[id] {
				t.Fatalf("openid %q malformed or repeated", id)
			}
			seen[id] = true
		}
		if p.NextOpenID == "" {
			break
		}
		if p.NextOpenID != p.Data.OpenID[p.Count-1] {
			t.Fatalf("next_openid %q is not the page's last openid", p.NextOpenID)
		}
		next = p.NextOpenID
	}
	if fmt.Sprint(counts) != "[10000 10000 5000]" {
		t.Errorf("page sizes %v, want [10000 10000 5000]", counts)
	}

	t.Run("AfterTheEnd", func(t *testing.T) {
		f := srv.followerSet()
		p := getUsers(t, srv, tok, f.ids[len(f.ids)-1])
		if p.Count != 0 || p.NextOpenID != "" || p.Data != nil {
			t.Errorf("after the end: %+v", p)
		}
	})
	t.Run("UnknownNextOpenID", func(t *testing.T) {
		r := do(t, srv.Client(), "GET", srv.URL+"/cgi-bin/user/get?access_token="+tok+"&next_openid="+openID1, "")
		wantError(t, r, 40003)
	})
	t.Run("Deterministic", func(t *testing.T) {
		other := New(Options{Seed: 99, Unfollowed: []string{openID1}})
		if a, b := srv.followerSet().ids, other.followerSet().ids; a[0] != b[0] || a[24999] != b[24999] {
			t.Error("follower sets differ between two sims of the same AppID")
		}
	})
	t.Run("FollowersSendable", func(t *testing.T) {
		p := getUsers(t, srv, tok, "")
		wantOK(t, send(t, srv, tok, msg(t, p.Data.OpenID[42], "", nil)))
	})
}

func TestUserGet_ExcludesUnfollowed(t *testing.T) {
	probe := New(Options{Followers: 10})
	gone := probe.followerSet().ids[3]
	srv := mustServer(t, Options{Followers: 10, Unfollowed: []string{gone}})
	tok := mustToken(t, srv)
	p := getUsers(t, srv, tok, "")
	if *p.Total != 10 || p.Count != 10 {
		t.Errorf("total %d count %d, want 10 and 10", *p.Total, p.Count)
	}
	for _, id := range p.Data.OpenID {
		if id == gone {
			t.Error("an unfollowed openid is listed")
		}
	}
	wantError(t, send(t, srv, tok, msg(t, gone, "", nil)), 43004)
}

func TestTagGet_Paging(t *testing.T) {
	srv := mustServer(t, Options{Followers: 105000})
	tok := mustToken(t, srv)

	var counts []int
	next := ""
	for {
		p := getTag(t, srv, tok, 2, next)
		if p.Total != nil {
			t.Error("tag/get carries total; WeChat's does not")
		}
		counts = append(counts, p.Count)
		if p.NextOpenID == "" {
			break
		}
		next = p.NextOpenID
	}
	if fmt.Sprint(counts) != "[10000 500]" {
		t.Errorf("tag 2 pages %v, want [10000 500]", counts)
	}

	tests := []struct {
		name string
		body string
		want int
	}{
		{"UnknownTag", `{"tagid":999}`, 45159},
		{"EmptyBody", ``, 44002},
		{"NotJSON", `tagid=2`, 47001},
		{"UnknownNextOpenID", `{"tagid":2,"next_openid":"` + openID1 + `"}`, 40003},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, post(t, srv, "/cgi-bin/user/tag/get", tok, tt.body), tt.want)
		})
	}
	t.Run("GET", func(t *testing.T) {
		wantError(t, do(t, srv.Client(), "GET", srv.URL+"/cgi-bin/user/tag/get?access_token="+tok, ""), 43002)
	})
}

func TestTagsGet(t *testing.T) {
	srv := mustServer(t, Options{})
	tok := mustToken(t, srv)
	r := do(t, srv.Client(), "GET", srv.URL+"/cgi-bin/tags/get?access_token="+tok, "")
	var body struct {
		Tags []struct {
			ID    int    `json:"id"`
			Name  string `json:"name"`
			Count int    `json:"count"`
		} `json:"tags"`
	}
	if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
		t.Fatal(err)
	}
	want := map[int]int{2: 2500, 100: 250, 101: 20}
	if len(body.Tags) != len(want) {
		t.Fatalf("tags %+v", body.Tags)
	}
	for _, tag := range body.Tags {
		if want[tag.ID] != tag.Count || tag.Name == "" {
			t.Errorf("tag %+v, want count %d", tag, want[tag.ID])
		}
		if p := getTag(t, srv, tok, tag.ID, ""); p.Count != tag.Count {
			t.Errorf("tag %d: tag/get lists %d, tags/get says %d", tag.ID, p.Count, tag.Count)
		}
	}
}

func TestDataEndpoints_NeedToken(t *testing.T) {
	srv := mustServer(t, Options{})
	paths := []string{
		"/cgi-bin/user/get", "/cgi-bin/user/tag/get", "/cgi-bin/tags/get",
		"/cgi-bin/template/get_all_private_template", "/cgi-bin/openapi/quota/get",
	}
	for _, p := range paths {
		t.Run(p, func(t *testing.T) {
			wantError(t, do(t, srv.Client(), "GET", srv.URL+p, ""), 41001)
			wantError(t, do(t, srv.Client(), "GET", srv.URL+p+"?access_token=nope", ""), 40001)
		})
	}
}
