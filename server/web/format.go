package web

import (
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/megasend/megasend/recipient"
)

// The failed-rows export the page offers: a CSV, UTF-8; with ?excel=1 it
// begins with a byte order mark, without which Excel reads UTF-8 as the
// local code page and garbles Chinese.
var (
	exportFormat  = recipient.FormatCSV
	exportOptions = recipient.WriterOptions{}
)

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"num":  num,
	"when": whenPtr,
	"path": pathEscape,
	"pct": func(n, of int64) string {
		if of <= 0 {
			return "0"
		}
		return strconv.FormatFloat(100*float64(n)/float64(of), 'f', 1, 64)
	},
	"vars": varsText,
	// isError reports a lint problem that refuses its template.
	"isError": isError,
	"deref": func(p *int) string {
		if p == nil {
			return ""
		}
		return strconv.Itoa(*p)
	},
	"derefs": func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	},
}

// num writes n with thousands separators: 1,234,567.
func num(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// when writes a time in the server's zone, to the second; the zero time is
// a dash.
func when(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// whenPtr is when for the optional times of a report or message: a
// *time.Time or a time.Time.
func whenPtr(v any) string {
	switch t := v.(type) {
	case *time.Time:
		if t == nil {
			return "–"
		}
		return when(*t)
	case time.Time:
		return when(t)
	}
	return "–"
}

// span writes a duration as a person reads one: 45s, 3m 20s, 2h 05m.
func span(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm %02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 100*time.Hour:
		return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// pathEscape is a batch name as one segment of a path.
func pathEscape(s string) string { return url.PathEscape(s) }

// fileSafe is name with what a file name (or a Content-Disposition quote)
// should not hold replaced.
func fileSafe(name string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(`"\/:*?<>|`, r) {
			return '_'
		}
		return r
	}, name)
}

// varsText is a recipient's variables as one line, in input order:
// "name=张伟, order=A-17".
func varsText(raw []byte) string {
	vars, err := recipient.ParseVarsJSON(string(raw), nil)
	if err != nil {
		return string(raw)
	}
	parts := make([]string, len(vars))
	for i, v := range vars {
		parts[i] = v.Name + "=" + v.Value
	}
	return strings.Join(parts, ", ")
}
