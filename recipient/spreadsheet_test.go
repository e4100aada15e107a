package recipient

import (
	"archive/zip"
	"bytes"
	"strings"
	"testing"

	"golang.org/x/text/encoding/unicode"
)

// zipFile builds a ZIP archive holding the named parts, the first one
// stored uncompressed (as an OpenDocument file's mimetype must be).
func zipFile(tb testing.TB, parts ...[2]string) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i, p := range parts {
		method := zip.Deflate
		if i == 0 {
			method = zip.Store
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: p[0], Method: method})
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write([]byte(p[1])); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func TestNewReader_NotText(t *testing.T) {
	utf16, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String("openid\tname\r\n" + id1 + "\tAlice\r\n")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		want string // "" when the file is read as usual
	}{
		{name: "XLSX", data: zipFile(t, [2]string{"[Content_Types].xml", "<Types/>"}, [2]string{"xl/workbook.xml", "<workbook/>"}),
			want: "this is an Excel workbook (.xlsx), not CSV"},
		{name: "XLSXWithoutContentTypesFirst", data: zipFile(t, [2]string{"docProps/app.xml", "<x/>"}, [2]string{"xl/workbook.xml", "<w/>"}),
			want: "this is an Excel workbook (.xlsx), not CSV"},
		{name: "ODS", data: zipFile(t, [2]string{"mimetype", "application/vnd.oasis.opendocument.spreadsheet"}, [2]string{"content.xml", "<x/>"}),
			want: "this is an OpenDocument spreadsheet (.ods), not CSV"},
		{name: "OtherZIP", data: zipFile(t, [2]string{"users.csv", "openid,name\n"}),
			want: "this is a ZIP archive (a spreadsheet workbook?), not CSV"},
		{name: "XLS", data: append([]byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), make([]byte, 504)...),
			want: "this is an Excel 97-2003 workbook (.xls), not CSV"},
		{name: "UTF16", data: []byte(utf16), want: `this is UTF-16 text (Excel's "Unicode Text"), not UTF-8 or GBK`},
		{name: "UTF16BigEndian", data: []byte("\xfe\xff\x00o"), want: `this is UTF-16 text (Excel's "Unicode Text"), not UTF-8 or GBK`},
		// Text that merely starts like a magic number is text.
		{name: "ColumnNamedPK", data: []byte("PK,openid\nx," + id1 + "\n")},
		{name: "UTF8BOM", data: []byte("\xef\xbb\xbfopenid\n" + id1 + "\n")},
		{name: "ShortZIPPrefix", data: []byte("PK\x03")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Whatever the format asked for and the file's name: the
			// content decides.
			for _, f := range []Format{FormatAuto, FormatCSV, FormatJSONL} {
				_, err := NewReader(bytes.NewReader(tt.data), Options{Name: "users.csv", Format: f})
				if tt.want == "" {
					if err != nil && strings.Contains(err.Error(), "save it as") {
						t.Fatalf("format %v: text refused as a spreadsheet: %v", f, err)
					}
					continue
				}
				want := "users.csv:1: " + tt.want + `: save it as "CSV UTF-8 (Comma delimited)" and give megasend that file`
				if err == nil || err.Error() != want {
					t.Fatalf("format %v: NewReader error = %v\nwant %s", f, err, want)
				}
			}
		})
	}
}
