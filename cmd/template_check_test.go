package cmd

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/megasend/megasend/template"
)

// lintApp is an app whose stderr and log go to one buffer.
func lintApp() (*app, *bytes.Buffer) {
	var buf bytes.Buffer
	return &app{streams: Streams{Err: &buf}, log: slog.New(slog.NewTextHandler(&buf, nil))}, &buf
}

// TestCheckTemplate: the campaign's view of a template's own problems. Each
// warning keeps its own words (issue 20.1), the template is named as given
// (issue 15.8), and errors are lint's lines.
func TestCheckTemplate(t *testing.T) {
	dir := t.TempDir()
	legacy, err := os.ReadFile("../testdata/templates/order_paid_legacy.json")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "legacy.json")
	tmpl, err := template.ParseFile(path, legacy)
	if err != nil {
		t.Fatal(err)
	}
	a, buf := lintApp()
	if err := a.checkTemplate(tmpl); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"template " + path + ": data.first: WeChat has dropped first since 2023-05-04; it is not shown",
		"template " + path + ": data.remark: WeChat has dropped remark since 2023-05-04; it is not shown",
		"template " + path + ": data.first.color, data.keyword1.color, data.keyword2.color, data.keyword3.color, data.remark.color: WeChat has ignored color since 2023-05-04",
		"template " + path + ": 7 warnings; 'megasend template lint " + path + "' shows each with its line",
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, buf.String())
		}
	}
	if strings.Contains(buf.String(), "drops or ignores") || strings.Contains(buf.String(), "template lint legacy") {
		t.Errorf("summed-up warnings or a key that does not exist:\n%s", buf.String())
	}

	// A stored template is named by its key.
	stored, err := template.Parse("order_paid", "", legacy)
	if err != nil {
		t.Fatal(err)
	}
	a, buf = lintApp()
	if err := a.checkTemplate(stored); err != nil || !strings.Contains(buf.String(), "'megasend template lint order_paid'") {
		t.Errorf("stored: %v\n%s", err, buf.String())
	}

	// The fixed touser: refused, in lint's line format.
	fixed := filepath.Join(dir, "fixed.json")
	tmpl, err = template.ParseFile(fixed, []byte(`{"touser":"oFIXED0000000000000000000000","template_id":"T1","data":{"keyword1":{"value":"${name}"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	a, buf = lintApp()
	err = a.checkTemplate(tmpl)
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "template "+fixed+": 1 error; nothing was sent") {
		t.Errorf("checkTemplate = %v (exit %d), want a usage error", err, exitCode(err))
	}
	if want := fixed + `:1: touser: fixed openid "oFIXED0000000000000000000000": every recipient's message would go to that one user; use "${openid}"` + "\n"; buf.String() != want {
		t.Errorf("stderr %q\nwant   %q", buf.String(), want)
	}
}
