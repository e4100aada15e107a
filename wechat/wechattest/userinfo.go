package wechattest

// One follower's details: user/info and tags/getidlist (reference notes
// §6). Both answer 40003 for an openid that is not well formed, or that is
// outside the follower set when Options.Followers makes membership real.

import (
	"net/http"
	"time"
)

// userInfo is user/info's answer for a follower. Since 2021-12-27 WeChat no
// longer returns nickname, sex, city, headimgurl and the like; they are
// left out here too.
type userInfo struct {
	Subscribe      int    `json:"subscribe"`
	OpenID         string `json:"openid"`
	Language       string `json:"language"`
	SubscribeTime  int64  `json:"subscribe_time"`
	Remark         string `json:"remark"`
	GroupID        int    `json:"groupid"`
	TagIDList      []int  `json:"tagid_list"`
	SubscribeScene string `json:"subscribe_scene"`
	QRScene        int    `json:"qr_scene"`
	QRSceneStr     string `json:"qr_scene_str"`
}

// unsubscribedInfo is user/info's answer for a user who unfollowed: only
// subscribe 0 and the openid.
type unsubscribedInfo struct {
	Subscribe int    `json:"subscribe"`
	OpenID    string `json:"openid"`
}

// followedSince is the earliest subscribe_time the synthetic followers
// have (2020-09-13 12:26:40 UTC); each gets a time after it derived from
// its openid, the same on every run.
const followedSince = 1600000000

// serveUserInfo is GET (or POST) /cgi-bin/user/info?openid=&lang=.
func (s *Sim) serveUserInfo(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r) {
		return
	}
	id := r.URL.Query().Get("openid")
	if !openIDPattern.MatchString(id) || !s.unfollowed[id] && !s.isFollower(id) {
		s.writeError(w, codeInvalidOpenID)
		return
	}
	if s.unfollowed[id] {
		writeJSON(w, unsubscribedInfo{OpenID: id})
		return
	}
	tags, ok := s.tagIDsOf(id)
	if !ok {
		tags = []int{} // a follower only because membership is not real
	}
	writeJSON(w, userInfo{
		Subscribe:      1,
		OpenID:         id,
		Language:       "zh_CN",
		SubscribeTime:  followedSince + int64(shareOf(id)*float64(3*365*24*time.Hour/time.Second)),
		TagIDList:      tags,
		SubscribeScene: "ADD_SCENE_SEARCH",
	})
}

// tagIDListRequest is the body of tags/getidlist.
type tagIDListRequest struct {
	OpenID string `json:"openid"`
}

// serveTagIDList is POST /cgi-bin/tags/getidlist: the ids of a follower's
// tags. An unfollowed openid, which has no tags any more, answers 40003.
func (s *Sim) serveTagIDList(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r) {
		return
	}
	var req tagIDListRequest
	if !s.decodePOST(w, r, &req) {
		return
	}
	id := req.OpenID
	if !openIDPattern.MatchString(id) || s.unfollowed[id] || !s.isFollower(id) {
		s.writeError(w, codeInvalidOpenID)
		return
	}
	tags, ok := s.tagIDsOf(id)
	if !ok {
		tags = []int{}
	}
	writeJSON(w, struct {
		TagIDList []int `json:"tagid_list"`
	}{tags})
}
