package wechat_test

import (
	"testing"

	"github.com/megasend/megasend/wechat"
	"github.com/megasend/megasend/wechat/wechattest"
)

func TestClient_PrivateTemplates(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		srv := mustServer(t, wechattest.Options{})
		c := mustClient(t, srv.URL, wechat.Config{})
		got, err := c.PrivateTemplates(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		want := wechattest.DefaultTemplates()
		if len(got) != len(want) {
			t.Fatalf("%d templates, want %d", len(got), len(want))
		}
		for i, w := range want {
			g := got[i]
			if g.TemplateID != w.TemplateID || g.Title != w.Title || g.Content != w.Content || g.Example != w.Example ||
				g.PrimaryIndustry != w.PrimaryIndustry || g.DeputyIndustry != w.DeputyIndustry {
				t.Errorf("template %d = %+v, want %+v", i, g, w)
			}
		}
	})

	t.Run("ExtraTemplateIDs", func(t *testing.T) {
		srv := mustServer(t, wechattest.Options{TemplateIDs: []string{"extra-template"}})
		c := mustClient(t, srv.URL, wechat.Config{})
		got, err := c.PrivateTemplates(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if n := len(got); n != 5 || got[4].TemplateID != "extra-template" {
			t.Errorf("templates = %+v, want the defaults and extra-template", got)
		}
	})
}

func TestClient_TemplateSendQuota(t *testing.T) {
	srv := mustServer(t, wechattest.Options{})
	c := mustClient(t, srv.URL, wechat.Config{})
	srv.SetQuota(1000)
	for i := range 3 {
		if _, err := c.SendTemplate(t.Context(), orderPaid(openID(i), "quota/"+openID(i))); err != nil {
			t.Fatal(err)
		}
	}
	// A duplicate (same client_msg_id) is not charged.
	if _, err := c.SendTemplate(t.Context(), orderPaid(openID(0), "quota/"+openID(0))); err != nil {
		t.Fatal(err)
	}
	q, err := c.TemplateSendQuota(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if want := (wechat.Quota{DailyLimit: 1000, Used: 3, Remain: 997}); q != want {
		t.Errorf("quota = %+v, want %+v", q, want)
	}
	if int(q.Used) != srv.QuotaUsed() {
		t.Errorf("Used = %d, simulator says %d", q.Used, srv.QuotaUsed())
	}
}

func TestClient_FollowersPage(t *testing.T) {
	srv := mustServer(t, wechattest.Options{})
	c := mustClient(t, srv.URL, wechat.Config{})
	wantSizes := []int{10000, 10000, 5000}
	next := ""
	for i, want := range wantSizes {
		p, err := c.FollowersPage(t.Context(), next)
		if err != nil {
			t.Fatalf("page %d: %v", i, err)
		}
		if len(p.OpenIDs) != want || p.Total != 25000 {
			t.Fatalf("page %d: %d openids of %d, want %d of 25000", i, len(p.OpenIDs), p.Total, want)
		}
		last := i == len(wantSizes)-1
		if last != (p.NextOpenID == "") {
			t.Fatalf("page %d: next_openid %q", i, p.NextOpenID)
		}
		next = p.NextOpenID
	}
}

func TestClient_Followers(t *testing.T) {
	tests := []struct {
		name      string
		tagID     int
		wantN     int
		wantPath  string
		wantPages int64
	}{
		{name: "All", tagID: 0, wantN: 25000, wantPath: "/cgi-bin/user/get", wantPages: 3},
		{name: "Tag2", tagID: 2, wantN: 2500, wantPath: "/cgi-bin/user/tag/get", wantPages: 1},
		{name: "Tag101", tagID: 101, wantN: 20, wantPath: "/cgi-bin/user/tag/get", wantPages: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mustServer(t, wechattest.Options{})
			c := mustClient(t, srv.URL, wechat.Config{})
			seen := make(map[string]bool)
			for id, err := range c.Followers(t.Context(), tt.tagID) {
				if err != nil {
					t.Fatal(err)
				}
				if seen[id] {
					t.Fatalf("openid %s yielded twice", id)
				}
				seen[id] = true
			}
			if len(seen) != tt.wantN {
				t.Errorf("%d unique openids, want %d", len(seen), tt.wantN)
			}
			if n := srv.Stats().Calls[tt.wantPath]; n != tt.wantPages {
				t.Errorf("%d pages fetched, want %d", n, tt.wantPages)
			}
		})
	}

	t.Run("StopEarly", func(t *testing.T) {
		srv := mustServer(t, wechattest.Options{})
		c := mustClient(t, srv.URL, wechat.Config{})
		n := 0
		for range c.Followers(t.Context(), 0) {
			if n++; n == 10 {
				break
			}
		}
		if pages := srv.Stats().Calls["/cgi-bin/user/get"]; pages != 1 {
			t.Errorf("%d pages fetched for 10 openids, want 1", pages)
		}
	})

	t.Run("ErrorYielded", func(t *testing.T) {
		srv := mustServer(t, wechattest.Options{})
		c := mustClient(t, srv.URL, wechat.Config{})
		var errs []error
		for _, err := range c.Followers(t.Context(), 12345) {
			if err != nil {
				errs = append(errs, err)
			}
		}
		if len(errs) != 1 || wechat.Errcode(errs[0]) != 45159 {
			t.Errorf("errors = %v, want one with errcode 45159 (invalid tag)", errs)
		}
	})
}

func TestClient_TagFollowersPage(t *testing.T) {
	srv := mustServer(t, wechattest.Options{})
	c := mustClient(t, srv.URL, wechat.Config{})
	p, err := c.TagFollowersPage(t.Context(), 2, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.OpenIDs) != 2500 || p.NextOpenID != "" || p.Total != 0 {
		t.Errorf("page: %d openids, next %q, total %d; want 2500, \"\", 0", len(p.OpenIDs), p.NextOpenID, p.Total)
	}
	all, err := c.FollowersPage(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	if p.OpenIDs[0] != all.OpenIDs[0] || p.OpenIDs[1] != all.OpenIDs[10] {
		t.Error("tag 2 is not every tenth follower")
	}
}
