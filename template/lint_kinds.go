package template

// Lint's rules for the kinds other than template messages
// (reference/wechat-api.md §4 and §5). A body of the wrong shape for its
// kind is refused by WeChat for every recipient alike (47001, 40008, 44004
// …), so each problem here is an error: the campaign would fail them all.

import (
	"fmt"
	"slices"
	"strings"
)

// customFields are the fields each msgtype's object must carry as
// non-empty strings (OffDoc api_sendcustommessage). news and msgmenu carry
// lists, checked on their own. Read-only.
var customFields = map[string][]string{
	"text":            {"content"},
	"image":           {"media_id"},
	"voice":           {"media_id"},
	"video":           {"media_id"},
	"music":           {"thumb_media_id"},
	"mpnews":          {"media_id"},
	"mpnewsarticle":   {"article_id"},
	"wxcard":          {"card_id"},
	"miniprogrampage": {"title", "appid", "pagepath", "thumb_media_id"},
	"news":            nil,
	"msgmenu":         nil,
}

// msgTypes returns the msgtypes WeChat knows, sorted, for messages.
func msgTypes() string {
	var names []string
	for k := range customFields {
		names = append(names, k)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// problems collects Lint's problems, placed at a node's line when there is
// one.
type problems []Problem

func (ps *problems) add(path, msg string, n *node) {
	p := Problem{Severity: Error, Path: path, Msg: msg}
	if n != nil {
		p.Line = n.line
	}
	*ps = append(*ps, p)
}

// checkCustom reports what keeps t from being a customer-service message.
func (t *Template) checkCustom(top map[string]*node) []Problem {
	ps := problems(checkTouser(top["touser"]))
	for _, f := range []string{"template_id", "data", "url"} {
		if n := top[f]; n != nil {
			ps.add(f, "a customer-service message has no "+f+`: is this a template message (kind "template")?`, n)
		}
	}
	mt := top["msgtype"]
	switch {
	case mt == nil:
		ps.add("msgtype", "missing: a customer-service message names its type, such as \"text\" (one of "+msgTypes()+")", nil)
		return ps
	case mt.kind != kindString || mt.vars:
		ps.add("msgtype", "must be a literal string, one of "+msgTypes(), mt)
		return ps
	}
	fields, known := customFields[mt.text]
	if !known {
		ps.add("msgtype", fmt.Sprintf("%q is not a type WeChat knows (40008); one of %s", mt.text, msgTypes()), mt)
		return ps
	}
	typ := mt.text
	obj := top[typ]
	switch {
	case obj == nil:
		ps.add(typ, fmt.Sprintf("missing: a %s message carries its content in %q", typ, typ), nil)
		return ps
	case obj.kind != kindObject:
		ps.add(typ, "must be an object", obj)
		return ps
	}
	byPath := t.byPath()
	for _, f := range fields {
		path := typ + "." + f
		switch n := byPath[path]; {
		case n == nil:
			ps.add(path, "missing", nil)
		case n.kind != kindString:
			ps.add(path, "must be a string", n)
		case !n.vars && n.text == "":
			ps.add(path, "empty", n)
		}
	}
	switch typ {
	case "news":
		ps.checkList(byPath, "news.articles", 1, 1, "a news message carries exactly one article (45008 for more, 44003 for none)")
	case "msgmenu":
		ps.checkList(byPath, "msgmenu.list", 1, -1, "a menu message lists at least one choice")
	}
	return ps
}

// checkList reports a list at path that is missing, not an array, or
// holds fewer than min or more than max (-1: any) elements.
func (ps *problems) checkList(byPath map[string]*node, path string, min, max int, why string) {
	n := byPath[path]
	switch {
	case n == nil:
		ps.add(path, "missing: "+why, nil)
		return
	case n.kind != kindArray:
		ps.add(path, "must be an array: "+why, n)
		return
	}
	count := 0
	for byPath[fmt.Sprintf("%s[%d]", path, count)] != nil {
		count++
	}
	if count < min || max >= 0 && count > max {
		ps.add(path, fmt.Sprintf("%d elements: %s", count, why), n)
	}
}

// checkSubscribe reports what keeps the top-level fields from being a
// subscribe notification's; Lint checks the data values as it does a
// template message's.
func (t *Template) checkSubscribe(top map[string]*node) []Problem {
	ps := problems(checkTouser(top["touser"]))
	switch n := top["template_id"]; {
	case n == nil:
		ps.add("template_id", "missing: the subscribe notification's template id (priTmplId); WeChat refuses the message with 40036", nil)
	case n.kind != kindString || !n.vars && n.text == "":
		ps.add("template_id", "must be the notification template's id, a non-empty string", n)
	}
	switch n := top["data"]; {
	case n == nil:
		ps.add("data", "missing: the notification has no content", nil)
	case n.kind != kindObject:
		ps.add("data", `must be an object of keys such as thing1, each {"value": "…"}`, n)
	}
	if n := top["url"]; n != nil {
		ps.add("url", "a subscribe notification has no url: use page (a web page) or miniprogram", n)
	}
	if n := top["page"]; n != nil && n.kind != kindString {
		ps.add("page", "must be a string, the web page the notification opens", n)
	}
	if n := top["miniprogram"]; n != nil {
		if n.kind != kindObject {
			ps.add("miniprogram", `must be an object {"appid": …, "pagepath": …}`, n)
		} else {
			byPath := t.byPath()
			for _, f := range []string{"appid", "pagepath"} {
				switch n := byPath["miniprogram."+f]; {
				case n == nil:
					ps.add("miniprogram."+f, "missing", nil)
				case n.kind != kindString || !n.vars && n.text == "":
					ps.add("miniprogram."+f, "must be a non-empty string", n)
				}
			}
		}
	}
	return ps
}

// byPath indexes the body's values by their JSON path.
func (t *Template) byPath() map[string]*node {
	m := make(map[string]*node, len(t.nodes))
	for i := range t.nodes {
		m[pathString(t.nodes[i].path)] = &t.nodes[i]
	}
	return m
}
