package wechat

import "testing"

// The kind dimension leaves template/send as it was: every code classes
// and reads the same for KindTemplate as through Classify and Describe, and
// an op that sends no message uses the same table.
func TestKindTemplateUnchanged(t *testing.T) {
	all := map[int]bool{0: true, 12345: true}
	for code := range codes {
		all[code] = true
	}
	for _, table := range kindCodes {
		for code := range table {
			all[code] = true
		}
	}
	for code := range all {
		if got, want := ClassifyKind(KindTemplate, code), Classify(code); got != want {
			t.Errorf("ClassifyKind(template, %d) = %v, Classify = %v", code, got, want)
		}
		m1, a1 := DescribeKind(KindTemplate, code)
		m2, a2 := Describe(code)
		if m1 != m2 || a1 != a2 {
			t.Errorf("DescribeKind(template, %d) differs from Describe", code)
		}
		for _, op := range []string{opTemplateSend, "user/get", "token"} {
			if got, want := apiError(op, code, "").Class, Classify(code); got != want {
				t.Errorf("apiError(%s, %d).Class = %v, want %v", op, code, got, want)
			}
		}
	}
}

// Every op a send method uses has its kind.
func TestOpKinds(t *testing.T) {
	for op, kind := range map[string]Kind{opTemplateSend: KindTemplate, opCustomSend: KindCustom, opSubscribeSend: KindSubscribe} {
		if opKinds[op] != kind {
			t.Errorf("opKinds[%s] = %q, want %q", op, opKinds[op], kind)
		}
	}
}
