package template

// Lint turns WeChat's 2023 rules (reference/wechat-api.md §2.4) into
// problems found before anything is sent. The rules differ in what they
// cost: first, remark, color and over-long legacy values are accepted and
// silently stripped or cut, so they are warnings; a category value that
// breaks its type's rule makes WeChat refuse that recipient's message with
// 47003, so it is an error.

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Severity says whether a problem stops a campaign.
type Severity int

const (
	// Warning: WeChat accepts the message but changes or drops content.
	Warning Severity = iota + 1
	// Error: WeChat would refuse the message, or the template is unusable.
	Error
)

// String returns "warning" or "error".
func (s Severity) String() string {
	switch s {
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// Problem is one finding of Lint or LintRendered.
type Problem struct {
	Severity Severity
	Path     string // JSON path, e.g. data.keyword1.value
	Msg      string
	// Line is where Lint found the problem: a line of the template's file
	// for templates from ParseFile, else of the body; 0 when the problem
	// has no place (a missing field, and everything LintRendered finds).
	Line int
}

// String formats p as "warning: data.first: …".
func (p Problem) String() string {
	if p.Path == "" {
		return p.Severity.String() + ": " + p.Msg
	}
	return p.Severity.String() + ": " + p.Path + ": " + p.Msg
}

// legacyLimit is how many characters of a legacy keyword value WeChat shows.
const legacyLimit = 20

// Lint checks what the template states for every recipient: the required
// fields (touser, which must be exactly "${openid}", template_id, data;
// errors if missing or wrong), placeholders in keys (errors: keys are sent
// as written), fields WeChat drops or ignores since 2023 (first, remark,
// color, topcolor; warnings), and data values written literally, which are
// checked as LintRendered checks a recipient's values. Problems come in
// document order, after the top-level fields' errors.
//
// That is a template message's body. Other kinds are checked as theirs
// (lint_kinds.go): a customer-service message needs touser, a msgtype WeChat
// knows and that msgtype's object with its fields, and has no template_id
// or data; a subscribe notification needs touser, template_id and data
// (with the same value rules), may have page and miniprogram, and has no url.
func (t *Template) Lint() []Problem {
	var ps []Problem
	top := map[string]*node{}
	for i := range t.nodes {
		if n := &t.nodes[i]; len(n.path) == 1 {
			top[n.path[0]] = n
		}
	}
	kind := t.Kind.OrDefault()
	switch kind {
	case KindCustom:
		ps = append(ps, t.checkCustom(top)...)
	case KindSubscribe:
		ps = append(ps, t.checkSubscribe(top)...)
	default:
		ps = append(ps, checkTop(top)...)
	}
	hasValue := map[string]bool{}
	for i := range t.nodes {
		n := &t.nodes[i]
		if len(n.path) == 3 && n.path[0] == "data" && n.path[2] == "value" {
			hasValue[n.path[1]] = true
		}
	}
	for i := range t.nodes {
		n := &t.nodes[i]
		at := func(sev Severity, msg string) {
			ps = append(ps, Problem{Severity: sev, Path: pathString(n.path), Msg: msg, Line: n.line})
		}
		// Keys are sent as written: a placeholder in one would reach WeChat
		// as "${name}". Reported once, at the innermost such key.
		if key := n.path[len(n.path)-1]; strings.Contains(key, "${") {
			at(Error, "placeholder in a key: keys are sent as written; placeholders work in string values only")
		}
		if kind == KindCustom {
			continue // a customer-service message has no data (checkCustom says so)
		}
		switch {
		case len(n.path) == 1 && n.path[0] == "topcolor" && kind == KindTemplate:
			at(Warning, "WeChat ignores topcolor")
		case len(n.path) == 2 && n.path[0] == "data":
			key := n.path[1]
			switch {
			case n.kind != kindObject:
				at(Error, `a data entry must be an object such as {"value": "…"}`)
			case key == "first" || key == "remark":
				at(Warning, "WeChat has dropped "+key+" since 2023-05-04; it is not shown")
			case !hasValue[key]:
				at(Error, "no value")
			}
		case len(n.path) == 3 && n.path[0] == "data" && n.path[2] == "color":
			at(Warning, "WeChat has ignored color since 2023-05-04")
		case len(n.path) == 3 && n.path[0] == "data" && n.path[2] == "value":
			switch {
			case n.kind != kindString:
				at(Error, "the value must be a string")
			case !n.vars:
				for _, p := range valueProblems(n.path[1], n.text) {
					p.Line = n.line
					ps = append(ps, p)
				}
			}
		}
	}
	for i := range ps {
		if ps[i].Line > 0 {
			ps[i].Line += t.line0
		}
	}
	return ps
}

// problemAt is a problem of the field at path, on n's line; n may be nil
// (a missing field).
func problemAt(sev Severity, path, msg string, n *node) Problem {
	p := Problem{Severity: sev, Path: path, Msg: msg}
	if n != nil {
		p.Line = n.line
	}
	return p
}

// checkTop reports missing or unusable top-level fields.
func checkTop(top map[string]*node) []Problem {
	var ps []Problem
	add := func(sev Severity, path, msg string, n *node) { ps = append(ps, problemAt(sev, path, msg, n)) }
	// The ledger records each message as sent to its row's openid, so
	// touser must be that openid and nothing else: a fixed openid would
	// send every recipient's message to one user while the ledger said
	// "sent" for each; another variable would send it to someone the
	// ledger does not name. A default (${openid:-x}) is refused too: every
	// row has an openid, so it could only ever mean "send to x".
	ps = append(ps, checkTouser(top["touser"])...)
	switch n := top["template_id"]; {
	case n == nil:
		add(Error, "template_id", "missing: WeChat refuses the message with 40036", nil)
	case n.kind != kindString || !n.vars && n.text == "":
		add(Error, "template_id", "must be the template's id, a non-empty string", n)
	}
	switch n := top["data"]; {
	case n == nil:
		add(Error, "data", "missing: the message has no content", nil)
	case n.kind != kindObject:
		add(Error, "data", "must be an object of keys such as keyword1 or thing1", n)
	}
	return ps
}

// checkTouser reports a touser that is not exactly "${openid}", n being
// the touser node or nil: every kind's rule (see checkTop).
func checkTouser(n *node) []Problem {
	var ps []Problem
	add := func(sev Severity, path, msg string, n *node) { ps = append(ps, problemAt(sev, path, msg, n)) }
	switch {
	case n == nil:
		add(Error, "touser", `missing: it must be "${openid}", the recipient's openid`, nil)
	case n.kind != kindString || !n.vars && n.text == "":
		add(Error, "touser", `must be "${openid}", the recipient's openid`, n)
	case !n.vars:
		add(Error, "touser", fmt.Sprintf(`fixed openid %q: every recipient's message would go to that one user; use "${openid}"`, n.text), n)
	case !isOpenIDRef(n.parts):
		add(Error, "touser", fmt.Sprintf(`must be exactly "${openid}", not %q: the ledger records each message as sent to its recipient's openid`, rawText(n.parts)), n)
	}
	return ps
}

// isOpenIDRef reports whether parts are exactly ${openid}: the name alone,
// no default, no text around it.
func isOpenIDRef(parts []rawPart) bool {
	return len(parts) == 1 && parts[0].name == "openid" && !parts[0].hasDef
}

// rawText writes parts back as the template spells them, for messages.
func rawText(parts []rawPart) string {
	var b strings.Builder
	for _, p := range parts {
		switch {
		case p.name == "":
			b.WriteString(strings.ReplaceAll(p.text, "${", "$${"))
		case p.hasDef:
			b.WriteString("${" + p.name + ":-" + p.def + "}")
		default:
			b.WriteString("${" + p.name + "}")
		}
	}
	return b.String()
}

// LintRendered checks one recipient's rendered body (from Render) against
// the 2023 value rules: a legacy value over 20 characters or with a line
// break is cut by WeChat (warning), and a category value that breaks its
// type's rule is refused with 47003 (error). Only values that come from
// placeholders are checked; Lint has reported the literal ones once.
// A body that is not a JSON object with a data object is one error.
func (t *Template) LintRendered(body []byte) []Problem {
	// Entries are decoded one by one, so that a literal entry of the wrong
	// shape, which Lint reports once, does not hide the others.
	var msg struct {
		Data map[string]json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		return []Problem{{Severity: Error, Msg: "rendered body: " + err.Error()}}
	}
	var ps []Problem
	for i := range t.nodes {
		n := &t.nodes[i]
		if len(n.path) != 3 || n.path[0] != "data" || n.path[2] != "value" || !n.vars {
			continue
		}
		var entry struct {
			Value *string `json:"value"`
		}
		if json.Unmarshal(msg.Data[n.path[1]], &entry) == nil && entry.Value != nil {
			ps = append(ps, valueProblems(n.path[1], *entry.Value)...)
		}
	}
	return ps
}

// LintValues is LintRendered for the values lookup gives, without
// rendering: the import checks every recipient with it, so it must not
// parse a JSON body per row. Missing variables are skipped here; Render
// reports them.
func (t *Template) LintValues(lookup func(name string) (string, bool)) []Problem {
	var ps []Problem
	var b strings.Builder
	for i := range t.nodes {
		n := &t.nodes[i]
		if len(n.path) != 3 || n.path[0] != "data" || n.path[2] != "value" || !n.vars || dropped(n.path[1]) {
			continue
		}
		// A value that is one placeholder, as most are, is checked as it is;
		// only one with text around its placeholders is put together.
		var value string
		if len(n.parts) == 1 {
			value = partValue(n.parts[0], lookup)
		} else {
			b.Reset()
			for _, p := range n.parts {
				b.WriteString(partValue(p, lookup))
			}
			value = b.String()
		}
		ps = append(ps, valueProblems(n.path[1], value)...)
	}
	return ps
}

// partValue is what part renders as: its text, or its variable's value
// (the default if the value is missing or empty and there is one).
func partValue(p rawPart, lookup func(name string) (string, bool)) string {
	if p.name == "" {
		return p.text
	}
	v, ok := lookup(p.name)
	if (!ok || v == "") && p.hasDef {
		v = p.def
	}
	return v
}

// dropped reports whether WeChat drops data key whole since 2023; Lint has
// said so once, so its values are not checked.
func dropped(key string) bool { return key == "first" || key == "remark" }

// valueProblems checks the value of data key. It runs for every value of
// every recipient, so it allocates only for a problem.
func valueProblems(key, value string) []Problem {
	if dropped(key) {
		return nil
	}
	path := func() string { return "data." + key + ".value" }
	var ps []Problem
	if typ := CategoryOf(key); typ != "" {
		if reason := checkValue(typ, value); reason != "" {
			ps = append(ps, Problem{Severity: Error, Path: path(),
				Msg: fmt.Sprintf("%s value %q: %s; WeChat refuses the message with 47003", typ, value, reason)})
		}
	} else {
		if i := strings.IndexAny(value, "\r\n"); i >= 0 {
			ps = append(ps, Problem{Severity: Warning, Path: path(),
				Msg: fmt.Sprintf("line break: WeChat drops everything after it, showing %q", value[:i])})
			value = value[:i]
		}
		if n := utf8.RuneCountInString(value); n > legacyLimit {
			ps = append(ps, Problem{Severity: Warning, Path: path(),
				Msg: fmt.Sprintf("%d characters: WeChat shows only the first %d, %q", n, legacyLimit, firstRunes(value, legacyLimit))})
		}
	}
	if hasEmoji(value) {
		ps = append(ps, Problem{Severity: Warning, Path: path(), Msg: "WeChat has removed emoji since 2023-05-04"})
	}
	return ps
}

// firstRunes returns the first n characters of s.
func firstRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// isEmoji recognises the pictographic planes (😀, 🎉, flags) only: older
// symbols such as ★ or ✓ may well survive, and a warning should not cry wolf.
func isEmoji(r rune) bool { return 0x1F000 <= r && r <= 0x1FAFF }

// hasEmoji reports whether s holds a character isEmoji recognises. Those
// all encode as F0 9F followed by two more bytes, so the bytes are searched
// first: nearly no value has them, and this runs for every imported value.
func hasEmoji(s string) bool {
	return strings.Contains(s, "\xf0\x9f") && strings.IndexFunc(s, isEmoji) >= 0
}
