package wechattest

// The fast path of template/send decoding. The sandbox at high concurrency
// is bound by the simulator's CPU, and decoding with encoding/json was a
// third of it: the body was scanned by reflection once whole, then the data
// object twice more (Unmarshal into a map, Compact). decodeSendFast reads
// the one shape real clients send, in one pass and with a handful of
// allocations, and leaves everything else to decodeSendJSON.
//
// What it accepts is a strict subset of what encoding/json accepts, chosen
// so that the answer cannot differ:
//
//   - no white space between tokens, so the data object's bytes are already
//     what json.Compact would return;
//   - keys written exactly as the field names, with no escapes, each at most
//     once (encoding/json matches field names case-insensitively and keeps
//     the last of duplicate keys; the raw data object would keep both);
//   - only strings and objects as values: no null, numbers, booleans or
//     arrays;
//   - strings of valid UTF-8 without control characters (encoding/json
//     replaces invalid UTF-8 with U+FFFD), whose escapes are the short ones
//     and \uXXXX outside the surrogates (encoding/json pairs those up or
//     replaces them);
//   - nothing after the closing brace.
//
// Anything else is not an error here but a "don't know": the caller falls
// back to decodeSendJSON, which is the reference. FuzzDecodeSend checks the
// two agree.

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// decodeSendFast decodes body if it has the shape decodeSendJSON would
// decode the same way (see the file comment), with the same result: the
// request, the compact data object, and 0 or a body errcode. ok false says
// nothing about the body except that this decoder leaves it to
// decodeSendJSON.
func decodeSendFast(body []byte) (req SendRequest, raw json.RawMessage, code int, ok bool) {
	s := sendScanner{b: bytes.TrimSpace(body)}
	if !s.message(&req, &raw) || s.i != len(s.b) {
		return SendRequest{}, nil, 0, false
	}
	if len(req.ClientMsgID) > maxClientMsgID {
		return SendRequest{}, nil, codeClientMsgIDSize, true
	}
	return req, raw, 0, true
}

// sendScanner reads a template/send body front to back. Every method
// returns false, with the position undefined, at the first byte it does
// not handle.
type sendScanner struct {
	b []byte
	i int
}

// Bits for the top-level keys seen, to refuse duplicates.
const (
	seenToUser = 1 << iota
	seenTemplateID
	seenURL
	seenMiniProgram
	seenClientMsgID
	seenData
)

// message reads the top-level object into req and raw.
func (s *sendScanner) message(req *SendRequest, raw *json.RawMessage) bool {
	var seen uint
	return s.object(func(key []byte) bool {
		var bit uint
		ok := false
		switch string(key) {
		case "touser":
			bit = seenToUser
			req.ToUser, ok = s.str()
		case "template_id":
			bit = seenTemplateID
			req.TemplateID, ok = s.str()
		case "url":
			bit = seenURL
			req.URL, ok = s.str()
		case "miniprogram":
			bit = seenMiniProgram
			req.MiniProgram, ok = s.miniProgram()
		case "client_msg_id":
			bit = seenClientMsgID
			req.ClientMsgID, ok = s.str()
		case "data":
			bit = seenData
			req.Data, *raw, ok = s.data()
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	})
}

// miniProgram reads the miniprogram object; {} gives a zero MiniProgram,
// as with encoding/json.
func (s *sendScanner) miniProgram() (*MiniProgram, bool) {
	mp := new(MiniProgram)
	var seenAppID, seenPagePath bool
	ok := s.object(func(key []byte) bool {
		ok := false
		switch string(key) {
		case "appid":
			if !seenAppID {
				seenAppID = true
				mp.AppID, ok = s.str()
			}
		case "pagepath":
			if !seenPagePath {
				seenPagePath = true
				mp.PagePath, ok = s.str()
			}
		}
		return ok
	})
	return mp, ok
}

// dataEntry is one entry of the data object, as spans of the text it was
// decoded into.
type dataEntry struct {
	key, value, color span
}

// span is text[lo:hi].
type span struct{ lo, hi int }

// data reads the data object: its entries, and its bytes as the raw data
// object, which need no compacting since this decoder takes no white space.
// All the entries' text shares one string: the map lives only as long as
// the request (validation, a hook), so one allocation serves it all.
func (s *sendScanner) data() (map[string]DataValue, json.RawMessage, bool) {
	start := s.i
	// On the stack unless a data object needs more.
	text := make([]byte, 0, 1024)
	entries := make([]dataEntry, 0, 16)
	ok := s.object(func(key []byte) bool {
		e := dataEntry{key: span{len(text), len(text) + len(key)}}
		text = append(text, key...)
		var ok bool
		text, e.value, e.color, ok = s.dataValue(text)
		entries = append(entries, e)
		return ok
	})
	if !ok {
		return nil, nil, false
	}
	all := string(text)
	m := make(map[string]DataValue, len(entries))
	for _, e := range entries {
		m[all[e.key.lo:e.key.hi]] = DataValue{
			Value: all[e.value.lo:e.value.hi],
			Color: all[e.color.lo:e.color.hi],
		}
	}
	if len(m) != len(entries) {
		// A key twice: encoding/json keeps the last value, raw keeps both.
		return nil, nil, false
	}
	return m, append(json.RawMessage(nil), s.b[start:s.i]...), true
}

// dataValue reads one {"value","color"} object, appending the two strings
// to text; a missing one is an empty span.
func (s *sendScanner) dataValue(text []byte) (_ []byte, value, color span, ok bool) {
	var seenValue, seenColor bool
	ok = s.object(func(key []byte) bool {
		var sp *span
		switch string(key) {
		case "value":
			if seenValue {
				return false
			}
			seenValue, sp = true, &value
		case "color":
			if seenColor {
				return false
			}
			seenColor, sp = true, &color
		default:
			return false
		}
		sp.lo = len(text)
		var ok bool
		text, ok = s.appendStr(text)
		sp.hi = len(text)
		return ok
	})
	return text, value, color, ok
}

// object reads an object, calling member for each key once the key and its
// colon are consumed; member reads the value. Keys are taken only as plain
// printable ASCII with no escapes: every name this decoder knows is.
func (s *sendScanner) object(member func(key []byte) bool) bool {
	if !s.consume('{') {
		return false
	}
	if s.consume('}') {
		return true
	}
	for {
		key, ok := s.key()
		if !ok || !member(key) {
			return false
		}
		if !s.consume(',') {
			return s.consume('}')
		}
	}
}

// key reads an object key and the colon after it. The result aliases the
// body, for comparison only.
func (s *sendScanner) key() ([]byte, bool) {
	if !s.consume('"') {
		return nil, false
	}
	start := s.i
	for ; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			key := s.b[start:s.i]
			s.i++
			return key, s.consume(':')
		case c < 0x20 || c == '\\' || c >= utf8.RuneSelf:
			return nil, false
		}
	}
	return nil, false
}

// consume advances past c if it is the next byte.
func (s *sendScanner) consume(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}
