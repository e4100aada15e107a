package recipient

import (
	"bufio"
	"bytes"
)

// People export recipients from a spreadsheet, and the commonest slip is to
// hand over the workbook itself. Read as CSV, an .xlsx file fails at its
// "header" with a baffling column-name error; these checks name the file
// type instead and say how to save it as CSV. They look at the content, not
// the extension: a workbook renamed users.csv is still a workbook.

// Magic numbers at the start of the files mistaken for recipient files.
var (
	zipMagic = []byte("PK\x03\x04")                       // .xlsx, .ods, .numbers: ZIP archives
	oleMagic = []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") // .xls: an OLE compound file
	utf16LE  = []byte("\xff\xfe")                         // Excel's "Unicode Text"
	utf16BE  = []byte("\xfe\xff")
)

// saveAsCSV ends the error: what to do instead.
const saveAsCSV = `: save it as "CSV UTF-8 (Comma delimited)" and give megasend that file`

// zipLookFor is how far into a ZIP archive to look for the names of a
// workbook's parts.
const zipLookFor = 4096

// notText names the kind of file br starts with when it is a spreadsheet,
// or UTF-16 text, rather than CSV or JSONL; it returns "" for anything
// else. It peeks and consumes nothing.
func notText(br *bufio.Reader) string {
	head, _ := br.Peek(len(oleMagic))
	switch {
	case bytes.HasPrefix(head, zipMagic):
		// The parts of an archive are named in its local headers; the
		// first few are within the first kilobytes.
		b, _ := br.Peek(zipLookFor)
		switch {
		case bytes.Contains(b, []byte("xl/")), bytes.Contains(b, []byte("[Content_Types].xml")):
			return "an Excel workbook (.xlsx), not CSV"
		case bytes.Contains(b, []byte("opendocument.spreadsheet")):
			return "an OpenDocument spreadsheet (.ods), not CSV"
		}
		return "a ZIP archive (a spreadsheet workbook?), not CSV"
	case bytes.HasPrefix(head, oleMagic):
		return "an Excel 97-2003 workbook (.xls), not CSV"
	case bytes.HasPrefix(head, utf16LE), bytes.HasPrefix(head, utf16BE):
		return `UTF-16 text (Excel's "Unicode Text"), not UTF-8 or GBK`
	}
	return ""
}
