package cmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// TestReport_ExportEncodings: the failed export and the per-recipient CSV
// in the bytes Excel needs (issue 15.10), each read back by a campaign.
func TestReport_ExportEncodings(t *testing.T) {
	db := sandboxBatch(t, "b", "../testdata/templates/order_paid.json", "../testdata/users.csv")
	// Lines 2 and 3 (张伟, 王芳) failed; line 7 (刘洋 🎉) is sent.
	mustExec(t, db, `UPDATE sends SET state = 'failed', errcode = 43004, errmsg = 'require subscribe' WHERE line IN (2, 3)`)
	dir := t.TempDir()

	t.Run("BOM", func(t *testing.T) {
		out := filepath.Join(dir, "bom.csv")
		if code, _, stderr := runCLI(t, db, "report", "b", "--failed", "--bom", "--output", out); code != exitOK {
			t.Fatalf("report: exit %d: %s", code, stderr)
		}
		got, _ := os.ReadFile(out)
		if want := "\xef\xbb\xbfopenid,name,product,amount,paid_at,order_no,errcode,errmsg\n" +
			"ovIC7uccmSMFeuYJj2PjM7KkdBnY,张伟,巧克力,39.80,2024年3月1日 10:15,SO202403010001,43004,require subscribe\n"; !strings.HasPrefix(string(got), want) {
			t.Errorf("export starts %q\nwant %q", got[:min(len(got), len(want))], want)
		}
		if code, _, stderr := runCLI(t, db, "campaign", "--sandbox", "--template", "../testdata/templates/order_paid.json", "--users", out, "--batch", "bom-again"); code != exitOK {
			t.Errorf("campaign with the export: exit %d: %s", code, stderr)
		}
	})

	t.Run("GBK", func(t *testing.T) {
		out := filepath.Join(dir, "gbk.csv")
		if code, _, stderr := runCLI(t, db, "report", "b", "--failed", "--encoding", "gbk", "--output", out); code != exitOK {
			t.Fatalf("report: exit %d: %s", code, stderr)
		}
		got, _ := os.ReadFile(out)
		want, _ := simplifiedchinese.GBK.NewEncoder().String("openid,name,product,amount,paid_at,order_no,errcode,errmsg\n" +
			"ovIC7uccmSMFeuYJj2PjM7KkdBnY,张伟,巧克力,39.80,2024年3月1日 10:15,SO202403010001,43004,require subscribe\n" +
			"optl3tY5_LvLXNtjJ-wlRnarOP8H,王芳,iPhone 15 Pro 手机壳,59.00,2024年3月1日 10:17,SO202403010002,43004,require subscribe\n")
		if !bytes.Equal(got, []byte(want)) {
			t.Errorf("export %q\nwant %q", got, want)
		}
		if code, _, stderr := runCLI(t, db, "campaign", "--sandbox", "--template", "../testdata/templates/order_paid.json", "--users", out, "--encoding", "gbk", "--batch", "gbk-again"); code != exitOK {
			t.Errorf("campaign with the export: exit %d: %s", code, stderr)
		}
	})

	// The per-recipient CSV holds 刘洋 🎉, which GBK cannot: refused, naming
	// the recipient, and no file is left behind.
	t.Run("GBKCannotHoldEmoji", func(t *testing.T) {
		out := filepath.Join(dir, "all.csv")
		code, _, stderr := runCLI(t, db, "report", "b", "--format", "csv", "--encoding", "gbk", "--output", out)
		want := `batch b line 7 (o4rwpWWC30aEgnODrTAvryACUXUc): name: '🎉' (U+1F389) cannot be written in GBK; nothing was written: use --bom instead`
		if code != exitUsage || !strings.Contains(stderr, want) {
			t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, stderr, want)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%s exists after the refusal: %v", out, err)
		}
		code, stdout, stderr := runCLI(t, db, "report", "b", "--format", "csv", "--bom")
		if code != exitOK || !strings.HasPrefix(stdout, "\xef\xbb\xbfline,openid,state,") || !strings.Contains(stdout, "刘洋 🎉") {
			t.Errorf("--format csv --bom: exit %d, %.80q, %s", code, stdout, stderr)
		}
	})

	t.Run("Refused", func(t *testing.T) {
		for _, tt := range []struct {
			args []string
			want string
		}{
			{[]string{"--failed", "--encoding", "gbk", "--bom"}, "a byte order mark marks UTF-8: it cannot start a GBK file"},
			{[]string{"--failed", "--encoding", "latin1"}, `--encoding "latin1": new csv writer: unknown encoding "latin1" (want utf-8 or gbk)`},
			{[]string{"--failed", "--format", "jsonl", "--bom"}, "--encoding and --bom are for CSV, which spreadsheets open; jsonl is always UTF-8"},
			{[]string{"--format", "json", "--encoding", "gbk"}, "--encoding and --bom are for CSV, which spreadsheets open; json is always UTF-8"},
		} {
			code, stdout, stderr := runCLI(t, db, append([]string{"report", "b"}, tt.args...)...)
			if code != exitUsage || stdout != "" || !strings.Contains(stderr, tt.want) {
				t.Errorf("%v: exit %d, stdout %.40q, stderr %q; want exit 2 and %q", tt.args, code, stdout, stderr, tt.want)
			}
		}
	})
}
