//go:build ignore

// gen.go writes the files of this corpus whose exact bytes matter and are
// awkward to type: GBK text, invalid UTF-8, a byte order mark, a workbook. It was run once
// and its output committed; run it again after changing it:
//
//	go run ./testdata/bad/gen.go
//
// (from the repository root). long_line.csv is not written here: the test
// generates it, as 10 MB is not worth committing.
package main

import (
	"archive/zip"
	"bytes"
	"log"
	"os"
	"path/filepath"

	"golang.org/x/text/encoding/simplifiedchinese"
)

func main() {
	dir := filepath.Join("testdata", "bad")

	// What Excel in China saves: GBK (code page 936), no BOM, CRLF.
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(
		"openid,name,city\r\n" +
			"oGbk000000000000000000000001,张伟,北京\r\n" +
			"oGbk000000000000000000000002,王芳,上海\r\n" +
			"oGbk000000000000000000000003,阿依古丽·买买提,乌鲁木齐\r\n")
	if err != nil {
		log.Fatal(err)
	}
	write(dir, "gbk_without_encoding.csv", gbk)

	// Latin-1 "Müller" (0xFC) and a lone 0xFF: invalid UTF-8, and not GBK
	// either, so no "--encoding gbk" hint.
	write(dir, "invalid_utf8.csv", "openid,name\n"+
		"oUtf800000000000000000000001,Alice\n"+
		"oUtf800000000000000000000002,M\xfcller\xff\n"+
		"oUtf800000000000000000000003,Bob\n")

	// A valid file as Excel's "CSV UTF-8" saves it: BOM first.
	write(dir, "bom.csv", "\xef\xbb\xbfopenid,name\r\n"+
		"oBom000000000000000000000001,李娜\r\n"+
		"oBom000000000000000000000002,Zoë\r\n")

	// A UTF-8 file (byte order mark, header) to which GBK rows were
	// appended: the mark makes it UTF-8 whatever --encoding says.
	gbkRows, err := simplifiedchinese.GBK.NewEncoder().String(
		"oBomGbk000000000000000000002,王芳\r\n")
	if err != nil {
		log.Fatal(err)
	}
	write(dir, "bom_gbk.csv", "\xef\xbb\xbfopenid,name\r\n"+
		"oBomGbk000000000000000000001,Alice\r\n"+gbkRows)

	// An Excel workbook given as --users: the parts of an .xlsx (a ZIP
	// archive), with the recipients in its shared strings.
	write(dir, "workbook.xlsx", xlsx(map[string]string{
		"[Content_Types].xml":      `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`,
		"xl/workbook.xml":          `<?xml version="1.0" encoding="UTF-8"?><workbook><sheets><sheet name="Sheet1" sheetId="1"/></sheets></workbook>`,
		"xl/sharedStrings.xml":     `<?xml version="1.0" encoding="UTF-8"?><sst><si><t>openid</t></si><si><t>name</t></si><si><t>oXlsx000000000000000000000001</t></si><si><t>张伟</t></si></sst>`,
		"xl/worksheets/sheet1.xml": `<?xml version="1.0" encoding="UTF-8"?><worksheet><sheetData/></worksheet>`,
	}, "[Content_Types].xml", "xl/workbook.xml", "xl/sharedStrings.xml", "xl/worksheets/sheet1.xml"))
}

// xlsx zips parts in the given order, as Excel lays out a workbook.
func xlsx(parts map[string]string, order ...string) string {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range order {
		w, err := zw.Create(name)
		if err != nil {
			log.Fatal(err)
		}
		if _, err := w.Write([]byte(parts[name])); err != nil {
			log.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		log.Fatal(err)
	}
	return buf.String()
}

func write(dir, name, data string) {
	if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
		log.Fatal(err)
	}
}
