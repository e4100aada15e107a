package campaign

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/megasend/megasend/recipient"
	"github.com/megasend/megasend/store"
)

// The failed export is a recipient file a new batch takes back: openid, the
// original variables in their order, then errcode and errmsg, which replace
// those of a file that was exported before.
func TestService_ExportFailed(t *testing.T) {
	f := newLedgerFixture(t)
	b := f.create("b", "again.csv", "openid,name,errcode,city\n"+
		openid(0)+",张伟,old,x\n"+
		openid(1)+",\"Smith, John\",old,y\n"+
		openid(2)+",c,old,z\n")
	f.send(b, failed(2, store.StateFailed, 43004, "require subscribe", sec(2)), sent(3, sec(3)),
		failed(4, store.StateUnknown, -1, "may have\nbeen delivered", sec(4)))

	tests := []struct {
		name   string
		format recipient.Format
		opts   recipient.WriterOptions
		want   string
	}{
		{"CSV", recipient.FormatCSV, recipient.WriterOptions{}, "openid,name,city,errcode,errmsg\n" +
			openid(0) + ",张伟,x,43004,require subscribe\n" +
			openid(2) + ",c,z,-1,\"may have\nbeen delivered\"\n"},
		{"CSVWithBOM", recipient.FormatCSV, recipient.WriterOptions{BOM: true}, "\xef\xbb\xbfopenid,name,city,errcode,errmsg\n" +
			openid(0) + ",张伟,x,43004,require subscribe\n" +
			openid(2) + ",c,z,-1,\"may have\nbeen delivered\"\n"},
		{"JSONL", recipient.FormatJSONL, recipient.WriterOptions{},
			`{"openid":"` + openid(0) + `","name":"张伟","city":"x","errcode":"43004","errmsg":"require subscribe"}` + "\n" +
				`{"openid":"` + openid(2) + `","name":"c","city":"z","errcode":"-1","errmsg":"may have\nbeen delivered"}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			n, err := f.svc.ExportFailed(t.Context(), b, &buf, tt.format, tt.opts)
			if err != nil || n != 2 {
				t.Fatalf("ExportFailed: %d, %v; want 2 recipients", n, err)
			}
			if buf.String() != tt.want {
				t.Errorf("export:\n%q\nwant:\n%q", buf.String(), tt.want)
			}
			// What the reader makes of it is what a new batch imports.
			name := "failed.csv"
			if tt.format == recipient.FormatJSONL {
				name = "failed.jsonl"
			}
			rd, err := recipient.NewReader(&buf, recipient.Options{Name: name, Format: recipient.FormatFromPath(name)})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for {
				r, err := rd.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				code, _ := r.Lookup("errcode")
				got = append(got, r.OpenID+" "+code)
			}
			if want := []string{openid(0) + " 43004", openid(2) + " -1"}; strings.Join(got, ";") != strings.Join(want, ";") {
				t.Errorf("read back %q, want %q", got, want)
			}
		})
	}

	// A batch without failures exports a header and nothing else: the
	// variables are those of the failed rows, so none.
	ok := f.create("ok", "ok.csv", csvUsers(1))
	f.send(ok, sent(2, sec(2)))
	var buf bytes.Buffer
	if n, err := f.svc.ExportFailed(t.Context(), ok, &buf, recipient.FormatCSV, recipient.WriterOptions{}); err != nil || n != 0 ||
		buf.String() != "openid,errcode,errmsg\n" {
		t.Errorf("export of a batch without failures: %d, %v, %q", n, err, buf.String())
	}
}

// GBK cannot hold every character: the export stops at the first value it
// cannot write, naming the batch, line, openid, column and character.
func TestService_ExportFailedUnencodable(t *testing.T) {
	f := newLedgerFixture(t)
	b := f.create("b", "u.csv", "openid,name\n"+openid(0)+",王芳\n"+openid(1)+",刘洋 🎉\n")
	f.send(b, failed(2, store.StateFailed, 43004, "x", sec(2)), failed(3, store.StateFailed, 43004, "x", sec(3)))

	_, err := f.svc.ExportFailed(t.Context(), b, io.Discard, recipient.FormatCSV, recipient.WriterOptions{Encoding: "gbk"})
	want := "batch b line 3 (" + openid(1) + "): name: '🎉' (U+1F389) cannot be written in GBK; nothing was written"
	var ee *recipient.EncodeError
	if ErrorCode(err) != Invalid || !errors.As(err, &ee) || err.Error() != want {
		t.Errorf("err %v (%s); want Invalid, wrapping a *recipient.EncodeError: %s", err, ErrorCode(err), want)
	}
	var e *Error
	if errors.As(err, &e) && e.Field != "name" {
		t.Errorf("field %q, want name", e.Field)
	}

	if err := EncodeError("b", 2, openid(0), nil); err != nil {
		t.Errorf("EncodeError(nil) = %v", err)
	}
	other := errors.New("disk full")
	if err := EncodeError("b", 2, openid(0), other); err != other {
		t.Errorf("EncodeError(%v) = %v; want it as it is", other, err)
	}
}
