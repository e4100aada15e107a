package wechat

import (
	"context"
	"net/http"
	"strconv"
)

// Tag is one of the account's follower tags (tags/get).
type Tag struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
	// Count is how many followers carry the tag, as WeChat counts them.
	Count int64 `json:"count"`
}

// Tags lists the account's follower tags.
func (c *Client) Tags(ctx context.Context) ([]Tag, error) {
	var r struct {
		status
		Tags []Tag `json:"tags"`
	}
	err := c.withToken(ctx, func(tok string) error {
		return c.do(ctx, "tags/get", http.MethodGet, "/cgi-bin/tags/get", tokenQuery(tok), nil, &r)
	})
	return r.Tags, err
}

// LookupTag finds the tag ref names among tags: by id when ref is a
// decimal number that is some tag's id, else by exact name. So a tag whose
// name is a number is still found by it when no tag has that id.
func LookupTag(tags []Tag, ref string) (Tag, bool) {
	if id, err := strconv.Atoi(ref); err == nil {
		for _, t := range tags {
			if t.ID == id {
				return t, true
			}
		}
	}
	for _, t := range tags {
		if t.Name == ref {
			return t, true
		}
	}
	return Tag{}, false
}
