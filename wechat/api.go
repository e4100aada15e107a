package wechat

import (
	"context"
	"iter"
	"net/http"
	"net/url"
)

// PrivateTemplate is one of the account's templates (get_all_private_template).
type PrivateTemplate struct {
	TemplateID      string `json:"template_id"`
	Title           string `json:"title"`
	PrimaryIndustry string `json:"primary_industry"`
	DeputyIndustry  string `json:"deputy_industry"`
	Content         string `json:"content"`
	Example         string `json:"example"`
}

// PrivateTemplates lists the account's templates.
func (c *Client) PrivateTemplates(ctx context.Context) ([]PrivateTemplate, error) {
	var r struct {
		status
		List []PrivateTemplate `json:"template_list"`
	}
	err := c.withToken(ctx, func(tok string) error {
		return c.do(ctx, "template/get_all_private_template", http.MethodGet, "/cgi-bin/template/get_all_private_template",
			tokenQuery(tok), nil, &r)
	})
	return r.List, err
}

// Quota is an API's daily quota (openapi/quota/get).
type Quota struct {
	DailyLimit int64 `json:"daily_limit"`
	Used       int64 `json:"used"`
	Remain     int64 `json:"remain"`
}

// TemplateSendQuota returns the remaining daily quota of template/send.
func (c *Client) TemplateSendQuota(ctx context.Context) (Quota, error) {
	body, err := postJSON(map[string]string{"cgi_path": "/cgi-bin/message/template/send"})
	if err != nil {
		return Quota{}, err
	}
	var r struct {
		status
		Quota Quota `json:"quota"`
	}
	err = c.withToken(ctx, func(tok string) error {
		return c.do(ctx, "openapi/quota/get", http.MethodPost, "/cgi-bin/openapi/quota/get",
			tokenQuery(tok), body, &r)
	})
	return r.Quota, err
}

// FollowerPage is one page of openids from user/get or user/tag/get.
// NextOpenID is "" after the last page.
type FollowerPage struct {
	Total      int64 // user/get only
	OpenIDs    []string
	NextOpenID string
}

type followerResponse struct {
	status
	Total int64 `json:"total"`
	Count int   `json:"count"`
	Data  *struct {
		OpenID []string `json:"openid"`
	} `json:"data"` // an empty page may omit data entirely
	NextOpenID string `json:"next_openid"`
}

func (r *followerResponse) page() FollowerPage {
	p := FollowerPage{Total: r.Total, NextOpenID: r.NextOpenID}
	if r.Data != nil {
		p.OpenIDs = r.Data.OpenID
	}
	if len(p.OpenIDs) == 0 {
		p.NextOpenID = "" // WeChat may repeat the last openid on an empty page
	}
	return p
}

// FollowersPage returns the page of followers after next ("" for the first).
func (c *Client) FollowersPage(ctx context.Context, next string) (FollowerPage, error) {
	var r followerResponse
	err := c.withToken(ctx, func(tok string) error {
		q := url.Values{"access_token": {tok}}
		if next != "" {
			q.Set("next_openid", next)
		}
		return c.do(ctx, "user/get", http.MethodGet, "/cgi-bin/user/get", q.Encode(), nil, &r)
	})
	return r.page(), err
}

// TagFollowersPage returns the page of followers with tag tagID after next.
func (c *Client) TagFollowersPage(ctx context.Context, tagID int, next string) (FollowerPage, error) {
	body, err := postJSON(map[string]any{"tagid": tagID, "next_openid": next})
	if err != nil {
		return FollowerPage{}, err
	}
	var r followerResponse
	err = c.withToken(ctx, func(tok string) error {
		return c.do(ctx, "user/tag/get", http.MethodPost, "/cgi-bin/user/tag/get", tokenQuery(tok), body, &r)
	})
	return r.page(), err
}

// Followers iterates over every follower (tagID 0) or every follower with a
// tag, page by page. Iteration stops at the first error, which is yielded.
func (c *Client) Followers(ctx context.Context, tagID int) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		next := ""
		for {
			var p FollowerPage
			var err error
			if tagID == 0 {
				p, err = c.FollowersPage(ctx, next)
			} else {
				p, err = c.TagFollowersPage(ctx, tagID, next)
			}
			if err != nil {
				yield("", err)
				return
			}
			for _, id := range p.OpenIDs {
				if !yield(id, nil) {
					return
				}
			}
			if p.NextOpenID == "" || p.NextOpenID == next {
				return
			}
			next = p.NextOpenID
		}
	}
}
