package wechattest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"testing"
)

// Without Options.Followers every well-formed openid follows, as many
// tests assume; with it, a send of any kind to an openid outside the
// follower set answers 40003, as WeChat does for an openid that is not the
// account's.
func TestFollowers_Membership(t *testing.T) {
	stranger := "oNotOneOfTheFollowersXXXX_01"
	for _, tt := range []struct {
		name   string
		opts   Options
		member bool // is the stranger taken?
	}{
		{"default", Options{}, true},
		{"explicit", Options{Followers: 50}, false},
		{"none", Options{Followers: -1}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.TemplateIDs = []string{"any"}
			srv := mustServer(t, tt.opts)
			tok := mustToken(t, srv)
			sends := map[string]func(to string) reply{
				KindTemplate:  func(to string) reply { return send(t, srv, tok, msg(t, to, "", nil)) },
				KindCustom:    func(to string) reply { return sendCustom(t, srv, tok, customMsg(to, "x")) },
				KindSubscribe: func(to string) reply { return sendSubscribe(t, srv, tok, subscribeMsg(t, to, nil)) },
			}
			for kind, sendTo := range sends {
				r := sendTo(stranger)
				if tt.member {
					if r.Errcode != 0 {
						t.Errorf("%s to a stranger: %s, want it taken", kind, r.Body)
					}
				} else {
					wantError(t, r, 40003)
				}
				if ids := srv.followerSet().ids; len(ids) > 0 {
					if r := sendTo(ids[len(ids)-1]); r.Errcode != 0 {
						t.Errorf("%s to a follower: %s", kind, r.Body)
					}
				}
			}
		})
	}
}

// userInfoReply is user/info's answer.
type userInfoReply struct {
	Errcode       int    `json:"errcode"`
	Subscribe     *int   `json:"subscribe"`
	OpenID        string `json:"openid"`
	SubscribeTime int64  `json:"subscribe_time"`
	TagIDList     []int  `json:"tagid_list"`
}

func getUserInfo(t *testing.T, srv *Server, tok, id string) (userInfoReply, reply) {
	t.Helper()
	r := do(t, srv.Client(), "GET", srv.URL+"/cgi-bin/user/info?lang=zh_CN&access_token="+tok+"&openid="+url.QueryEscape(id), "")
	var u userInfoReply
	if err := json.Unmarshal([]byte(r.Body), &u); err != nil {
		t.Fatalf("%s: %v", r.Body, err)
	}
	return u, r
}

func tagIDList(t *testing.T, srv *Server, tok, id string) ([]int, reply) {
	t.Helper()
	r := post(t, srv, "/cgi-bin/tags/getidlist", tok, fmt.Sprintf(`{"openid":%q}`, id))
	var v struct {
		TagIDList []int `json:"tagid_list"`
	}
	if err := json.Unmarshal([]byte(r.Body), &v); err != nil {
		t.Fatalf("%s: %v", r.Body, err)
	}
	return v.TagIDList, r
}

// Options.Tags spread each tag's count over the followers; tags/get,
// user/tag/get, tags/getidlist and user/info agree on who carries what.
func TestTags_Options(t *testing.T) {
	srv := mustServer(t, Options{Followers: 1000, Tags: []Tag{{"vip", 30}, {"beta", 1000}, {"empty", 0}}})
	tok := mustToken(t, srv)

	var list struct {
		Tags []tagInfo `json:"tags"`
	}
	if err := json.Unmarshal([]byte(do(t, srv.Client(), "GET", srv.URL+"/cgi-bin/tags/get?access_token="+tok, "").Body), &list); err != nil {
		t.Fatal(err)
	}
	want := []tagInfo{{100, "vip", 30}, {101, "beta", 1000}, {102, "empty", 0}}
	if !slices.Equal(list.Tags, want) {
		t.Fatalf("tags/get = %v, want %v", list.Tags, want)
	}
	vip := getTag(t, srv, tok, 100, "")
	if vip.Count != 30 {
		t.Fatalf("tag vip lists %d followers, want 30", vip.Count)
	}
	members := map[string]bool{}
	for _, id := range vip.Data.OpenID {
		members[id] = true
	}
	for i, id := range srv.followerSet().ids {
		wantTags := []int{101}
		if members[id] {
			wantTags = []int{100, 101}
		}
		got, r := tagIDList(t, srv, tok, id)
		if r.Errcode != 0 || !slices.Equal(got, wantTags) {
			t.Fatalf("follower %d: tags/getidlist %s, want %v", i, r.Body, wantTags)
		}
		if i%97 == 0 {
			u, r := getUserInfo(t, srv, tok, id)
			if u.Errcode != 0 || u.Subscribe == nil || *u.Subscribe != 1 || u.OpenID != id ||
				u.SubscribeTime < followedSince || !slices.Equal(u.TagIDList, wantTags) {
				t.Fatalf("user/info %s, want subscribe 1 and tags %v", r.Body, wantTags)
			}
		}
	}
}

func TestUserInfo_Answers(t *testing.T) {
	stranger := "oNotOneOfTheFollowersXXXX_01"
	t.Run("real membership", func(t *testing.T) {
		srv := mustServer(t, Options{Followers: 10, Unfollowed: []string{openID2}})
		tok := mustToken(t, srv)
		for _, id := range []string{stranger, "short", ""} {
			_, r := getUserInfo(t, srv, tok, id)
			wantError(t, r, 40003)
			_, r = tagIDList(t, srv, tok, id)
			wantError(t, r, 40003)
		}
		u, r := getUserInfo(t, srv, tok, openID2)
		if u.Errcode != 0 || u.Subscribe == nil || *u.Subscribe != 0 || u.OpenID != openID2 || u.TagIDList != nil {
			t.Errorf("user/info of an unfollowed openid: %s, want subscribe 0 and the openid only", r.Body)
		}
		_, r = tagIDList(t, srv, tok, openID2)
		wantError(t, r, 40003)
		_, r = tagIDList(t, srv, "garbage", srv.followerSet().ids[0])
		wantError(t, r, 40001)
		r = do(t, srv.Client(), "GET", srv.URL+"/cgi-bin/tags/getidlist?access_token="+tok, "")
		wantError(t, r, 43002)
	})
	t.Run("default membership", func(t *testing.T) {
		srv := mustServer(t, Options{})
		tok := mustToken(t, srv)
		u, r := getUserInfo(t, srv, tok, stranger)
		if u.Errcode != 0 || *u.Subscribe != 1 || u.TagIDList == nil || len(u.TagIDList) != 0 {
			t.Errorf("user/info of any openid: %s, want a follower with no tags", r.Body)
		}
		again, _ := getUserInfo(t, srv, tok, stranger)
		if again.SubscribeTime != u.SubscribeTime {
			t.Errorf("subscribe_time %d then %d: want the same every time", u.SubscribeTime, again.SubscribeTime)
		}
	})
}

func TestOptions_ValidateAudiencesAndTags(t *testing.T) {
	for _, tt := range []struct {
		opts  Options
		field string
	}{
		{Options{Interacted: &Audience{Percent: 101}}, "Interacted"},
		{Options{Subscribed: &Audience{Percent: -1}}, "Subscribed"},
		{Options{Tags: []Tag{{"", 1}}}, "Tags[0]"},
		{Options{Tags: []Tag{{"a", 1}, {"a", 2}}}, "Tags[1]"},
		{Options{Tags: []Tag{{"a", -1}}}, "Tags[0]"},
		{Options{Followers: 10, Tags: []Tag{{"a", 11}}}, "Tags[0]"},
		{Options{Followers: -1, Tags: []Tag{{"a", 1}}}, "Tags[0]"},
		{Options{Tags: []Tag{{"一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一", 1}}}, "Tags[0]"},
	} {
		err := tt.opts.Validate()
		oe, ok := err.(*OptionError)
		if !ok || oe.Field != tt.field {
			t.Errorf("Validate(%+v) = %v, want an OptionError for %s", tt.opts, err, tt.field)
		}
	}
	if err := (Options{Followers: 10, Tags: []Tag{{"a", 10}}, Interacted: &Audience{Percent: 100}}).Validate(); err != nil {
		t.Errorf("valid options: %v", err)
	}
}
