package template

import (
	"errors"
	"regexp"
	"slices"
)

// dataRef matches the {{key.DATA}} fields of a template's content, also
// written "{ {key.DATA} }" in WeChat's own documentation.
var dataRef = regexp.MustCompile(`\{\s*\{\s*([A-Za-z_][A-Za-z0-9_]*)\.DATA\s*\}\s*\}`)

// SkeletonFromContent builds a starting template for an account template
// listed by get_all_private_template: touser "${openid}", the given
// template_id, and one data entry per {{key.DATA}} field of content, in
// order, whose value is the variable of the same name ("${keyword1}").
// first and remark are left out: WeChat has dropped them since 2023.
// The template's key is templateID, for the caller to rename; the body is
// also returned as the bytes to store.
//
// It returns an error if templateID is empty or content has no fields.
func SkeletonFromContent(templateID, title, content string) (*Template, []byte, error) {
	if templateID == "" {
		return nil, nil, errors.New("skeleton: empty template id")
	}
	var keys []string
	for _, m := range dataRef.FindAllStringSubmatch(content, -1) {
		if k := m[1]; k != "first" && k != "remark" && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, nil, errors.New("skeleton: no {{key.DATA}} fields in the template content")
	}
	b := []byte("{\n  \"touser\": \"${openid}\",\n  \"template_id\": ")
	b, ok := appendQuoted(b, templateID)
	if !ok {
		return nil, nil, errors.New("skeleton: template id is not valid UTF-8")
	}
	b = append(b, ",\n  \"data\": {"...)
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		// Keys match [A-Za-z0-9_], so they need no escaping.
		b = append(b, "\n    \""+k+"\": {\"value\": \"${"+k+"}\"}"...)
	}
	b = append(b, "\n  }\n}"...)
	t, err := Parse(templateID, title, b)
	if err != nil {
		return nil, nil, err
	}
	return t, b, nil
}
