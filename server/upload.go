package server

// Reading a batch request off the wire. The body never sits in memory: it
// is copied to a spool file while its sha256 is computed (the same-content
// rule needs the hash before the import starts), and the import reads the
// spool. A JSON body's recipients array is decoded one element at a time
// and spooled as JSONL, the recipient reader's own format.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"time"

	"github.com/megasend/megasend/recipient"
)

// Media types of a batch request.
const (
	mediaJSON  = "application/json"
	mediaCSV   = "text/csv"
	mediaJSONL = "application/x-ndjson"
)

// upload is a batch request as read: its fields, and its recipients in a
// spool file.
type upload struct {
	Name     string
	Template string
	// Fallback is the batch's "fallback": the key of the template message
	// sent to whom its customer-service template cannot reach; "" none.
	Fallback string
	SendAt   time.Time
	// QuietHours and Cap are the batch's "quiet_hours" (HH:MM-HH:MM in the
	// account's zone) and "cap" (N/DURATION), as campaign's flags: "off"
	// asks for none, and "" (absent) follows the account's configuration.
	QuietHours, Cap string
	// Source is how problems name the recipients: "recipients" for a JSON
	// body, whose line N is the Nth recipient, or "request body".
	Source   string
	Format   recipient.Format
	Encoding string // a CSV or JSONL body's charset
	json     bool   // the body was a JSON document
	// Audience and Set are a JSON batch's "audience" (followers, tag:NAME
	// or tag:ID) and "set" (the variables its recipients share, in the
	// order given); with recipients too, those restricted to the audience.
	Audience string
	Set      []recipient.Var
	hasSet   bool

	path string // the spool file
	hash string // hex sha256 of its bytes
	rows int    // a JSON body's recipients; -1: no "recipients" key
}

// remove deletes the spool file.
func (u *upload) remove() {
	if u != nil && u.path != "" {
		os.Remove(u.path)
	}
}

// open opens the spool for the import.
func (u *upload) open() (io.ReadCloser, error) { return os.Open(u.path) }

// readUpload reads a batch request: a JSON document, or a CSV or JSONL body
// with its fields in the query. The caller removes the spool.
func (s *Server) readUpload(w http.ResponseWriter, r *http.Request) (*upload, error) {
	ct := r.Header.Get("Content-Type")
	media, params, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil {
		return nil, &httpError{Status: http.StatusBadRequest, Code: "unsupported_media_type", Field: "Content-Type",
			Msg: fmt.Sprintf("Content-Type %q: want %s, %s or %s", ct, mediaJSON, mediaCSV, mediaJSONL)}
	}
	u := &upload{Source: "request body", rows: -1}
	switch media {
	case mediaJSON:
		u.Source, u.Format, u.json = "recipients", recipient.FormatJSONL, true
		if len(r.URL.Query()) > 0 {
			return nil, badRequest("", "a JSON batch takes its fields in the body, not the query")
		}
	case mediaCSV, mediaJSONL, "application/jsonl", "application/x-jsonlines":
		u.Format, u.Encoding = recipient.FormatCSV, params["charset"]
		if media != mediaCSV {
			u.Format = recipient.FormatJSONL
		}
		if err := u.fromQuery(r); err != nil {
			return nil, err
		}
	default:
		return nil, &httpError{Status: http.StatusBadRequest, Code: "unsupported_media_type", Field: "Content-Type",
			Msg: fmt.Sprintf("Content-Type %s: want %s, %s or %s", media, mediaJSON, mediaCSV, mediaJSONL)}
	}

	f, err := createSpool(s.spoolDir)
	if err != nil {
		return nil, fmt.Errorf("spool upload: %w", err)
	}
	u.path = f.Name()
	h := sha256.New()
	body := s.body(w, r)
	if media == mediaJSON {
		err = u.readJSON(body, io.MultiWriter(f, h))
	} else {
		_, err = io.Copy(io.MultiWriter(f, h), body)
		err = readError(err)
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("spool upload: %w", cerr)
	}
	if err != nil {
		u.remove()
		return nil, err
	}
	u.hash = hex.EncodeToString(h.Sum(nil))
	return u, nil
}

// fromQuery reads a CSV or JSONL request's fields from its query.
func (u *upload) fromQuery(r *http.Request) error {
	q := r.URL.Query()
	for k := range q {
		switch k {
		case "name", "template", "fallback", "send_at", "quiet_hours", "cap":
		default:
			return badRequest(k, fmt.Sprintf("unknown query parameter %q: want name, template, fallback, send_at, quiet_hours and cap", k))
		}
	}
	u.Name, u.Template, u.Fallback = q.Get("name"), q.Get("template"), q.Get("fallback")
	u.QuietHours, u.Cap = q.Get("quiet_hours"), q.Get("cap")
	return u.setSendAt(q.Get("send_at"))
}

// setSendAt parses an RFC 3339 time; "" is now.
func (u *upload) setSendAt(v string) error {
	if v == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return invalid("send_at", fmt.Sprintf("send_at %q: want an RFC 3339 time such as 2026-11-22T18:00:00+08:00", v))
	}
	u.SendAt = t
	return nil
}

// readJSON decodes a JSON batch, {"name","template","fallback","send_at",
// "quiet_hours","cap","recipients","audience","set"},
// writing each recipient to spool as one JSONL line. Only one recipient is
// in memory at a time. Unknown or repeated fields and trailing data are
// refused (400), as is anything that is not that one object.
func (u *upload) readJSON(body io.Reader, spool io.Writer) error {
	dec := json.NewDecoder(body)
	if err := expectDelim(dec, '{', "a JSON object"); err != nil {
		return err
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return jsonError(err)
		}
		key, _ := tok.(string)
		if seen[key] {
			return badRequest(key, fmt.Sprintf("field %q given twice", key))
		}
		seen[key] = true
		switch key {
		case "name":
			err = decodeString(dec, key, &u.Name)
		case "template":
			err = decodeString(dec, key, &u.Template)
		case "fallback":
			err = decodeString(dec, key, &u.Fallback)
		case "quiet_hours":
			err = decodeString(dec, key, &u.QuietHours)
		case "cap":
			err = decodeString(dec, key, &u.Cap)
		case "send_at":
			var v string
			if err = decodeString(dec, key, &v); err == nil {
				err = u.setSendAt(v)
			}
		case "recipients":
			err = u.spoolRecipients(dec, spool)
		case "audience":
			err = decodeString(dec, key, &u.Audience)
		case "set":
			u.hasSet = true
			u.Set, err = decodeSet(dec)
		default:
			return badRequest(key, fmt.Sprintf("unknown field %q: want name, template, fallback, recipients or audience and set, send_at, quiet_hours and cap", key))
		}
		if err != nil {
			return err
		}
	}
	if err := expectDelim(dec, '}', "the end of the object"); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		if err != nil {
			return jsonError(err)
		}
		return badRequest("", "malformed JSON: data after the object")
	}
	return nil
}

// spoolRecipients copies the recipients array to spool, one compact JSON
// value per line; the recipient reader then checks each as a JSONL row
// (an object with an openid), its line being its place in the array.
func (u *upload) spoolRecipients(dec *json.Decoder, spool io.Writer) error {
	tok, err := dec.Token()
	if err != nil {
		return jsonError(err)
	}
	if tok == nil {
		return nil // null: as if absent
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return badRequest("recipients", "recipients: want an array of objects")
	}
	u.rows = 0
	var (
		raw json.RawMessage
		buf bytes.Buffer
	)
	for dec.More() {
		raw = raw[:0]
		if err := dec.Decode(&raw); err != nil {
			return jsonError(err)
		}
		buf.Reset()
		if err := json.Compact(&buf, raw); err != nil {
			return jsonError(err)
		}
		buf.WriteByte('\n')
		if _, err := spool.Write(buf.Bytes()); err != nil {
			return fmt.Errorf("spool upload: %w", err)
		}
		u.rows++
	}
	return expectDelim(dec, ']', "the end of the recipients array")
}

// decodeSet decodes the "set" object, its keys in the order given: every
// value a string (a number's text would be the decoder's, not the
// sender's: 39.80 would become 39.8). null is as if absent.
func decodeSet(dec *json.Decoder) ([]recipient.Var, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonError(err)
	}
	if tok == nil {
		return nil, nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, badRequest("set", `set: want an object of strings, {"name":"value",...}`)
	}
	var vars []recipient.Var
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, jsonError(err)
		}
		key, _ := tok.(string)
		var v string
		if err := decodeString(dec, "set."+key, &v); err != nil {
			return nil, err
		}
		vars = append(vars, recipient.Var{Name: key, Value: v})
	}
	return vars, expectDelim(dec, '}', "the end of the set object")
}

// decodeString decodes the next value into *v: a string, or null.
func decodeString(dec *json.Decoder, field string, v *string) error {
	var p *string
	if err := dec.Decode(&p); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return badRequest(field, fmt.Sprintf("%s: want a string, got %s", field, te.Value))
		}
		return jsonError(err)
	}
	if p != nil {
		*v = *p
	}
	return nil
}

// expectDelim reads the next token, which must be delim.
func expectDelim(dec *json.Decoder, delim json.Delim, what string) error {
	tok, err := dec.Token()
	if err != nil {
		return jsonError(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != delim {
		return badRequest("", "malformed JSON: want "+what)
	}
	return nil
}

// jsonError is the answer to a body that could not be decoded: malformed
// JSON is 400; a read error is as readError says.
func jsonError(err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return badRequest("", "malformed JSON: "+se.Error())
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return badRequest("", "malformed JSON: the body ends too soon")
	}
	return readError(err)
}

// isReadError reports an error of the body's reading rather than of its
// content: over the limit, or too slow.
func isReadError(err error) bool {
	var tooBig *http.MaxBytesError
	return errors.As(err, &tooBig) || errors.Is(err, os.ErrDeadlineExceeded)
}

// readError is the answer to a body that could not be read: over the limit
// is 413 (Error maps it), too slow 408; nil stays nil.
func readError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		return &httpError{Status: http.StatusRequestTimeout, Code: "timeout", Err: err,
			Msg: "the request body stalled; send it without pauses"}
	case isReadError(err):
		return err
	}
	return &httpError{Status: http.StatusBadRequest, Code: "bad_request", Err: err, Msg: "reading the request body: " + err.Error()}
}

// body returns r's body bounded by the server's limit, with a read
// deadline that moves with each read: a client may take as long as it
// needs for a large upload, but not stall.
func (s *Server) body(w http.ResponseWriter, r *http.Request) io.Reader {
	return &idleReader{r: http.MaxBytesReader(w, r.Body, s.maxBody), rc: http.NewResponseController(w), idle: s.bodyIdle}
}

// body reads with a deadline that moves with each read.
type idleReader struct {
	r    io.Reader
	rc   *http.ResponseController
	idle time.Duration
}

func (ir *idleReader) Read(p []byte) (int, error) {
	// A recorder in tests has no connection: no deadline to set.
	_ = ir.rc.SetReadDeadline(time.Now().Add(ir.idle))
	return ir.r.Read(p)
}

// byteSize formats n bytes for a message: "512 MiB", or bytes.
func byteSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
