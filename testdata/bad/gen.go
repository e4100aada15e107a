//go:build ignore

// gen.go writes the files of this corpus whose exact bytes matter and are
// awkward to type: GBK text, invalid UTF-8, a byte order mark. It was run once
// and its output committed; run it again after changing it:
//
//	go run ./testdata/bad/gen.go
//
// (from the repository root). long_line.csv is not written here: the test
// generates it, as 10 MB is not worth committing.
package main

import (
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
}

func write(dir, name, data string) {
	if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
		log.Fatal(err)
	}
}
