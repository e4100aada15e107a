package template

// Category templates (类目模板), the only kind WeChat has let accounts add
// since 2023, type every data key by its name: thing1, character_string2,
// phrase3. Each type has a published value rule, and a value that breaks it
// is refused with errcode 47003 ("argument invalid! data.thing1.value
// invalid") for that recipient. The checks here follow the published table
// (reference/wechat-api.md §2.4) literally, so a campaign can refuse such
// values before the first send instead of failing them one by one.
//
// Lengths count characters (runes), as WeChat's "个以内" does, not bytes.

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// categoryTypes are the key prefixes with a published value rule. const,
// enum and short_thing exist too, but their rules are not published, so
// their keys are treated like legacy keys rather than guessed at.
var categoryTypes = [...]string{
	"thing", "number", "letter", "symbol", "character_string", "time",
	"date", "amount", "phone_number", "car_number", "name", "phrase",
}

// ValueError reports a data value that breaks the rule of its key's
// category type; WeChat would refuse the message with errcode 47003.
type ValueError struct {
	Key    string // the data key, e.g. "phrase3"
	Type   string // its category type, e.g. "phrase"
	Reason string // what is wrong, e.g. "at most 5 characters, got 7"
}

// Error formats e as "phrase3 (phrase): at most 5 characters, got 7".
func (e *ValueError) Error() string {
	return fmt.Sprintf("%s (%s): %s", e.Key, e.Type, e.Reason)
}

// CategoryOf returns the category type of a data key ("thing" for "thing1",
// "character_string" for "character_string12"), or "" for legacy keys
// (first, keyword1, remark …). A category key is a type name followed by at
// least one digit: legacy industry templates used bare names such as "name"
// or "amount" freely, and those carry no rule.
func CategoryOf(key string) string {
	// The digits trimmed by hand: strings.TrimRight builds its set of
	// characters on every call, and this runs for every imported value.
	i := len(key)
	for i > 0 && '0' <= key[i-1] && key[i-1] <= '9' {
		i--
	}
	base := key[:i]
	if len(base) == len(key) {
		return ""
	}
	for _, t := range categoryTypes {
		if base == t {
			return t
		}
	}
	return ""
}

// CheckCategoryValue checks value against the 2023 rule of key's category
// type. It returns nil for legacy keys and for valid values; otherwise a
// *ValueError naming the key, the type and the reason. An empty value is
// an error for every category type.
func CheckCategoryValue(key, value string) error {
	typ := CategoryOf(key)
	if typ == "" {
		return nil
	}
	if reason := checkValue(typ, value); reason != "" {
		return &ValueError{Key: key, Type: typ, Reason: reason}
	}
	return nil
}

// checkValue returns why value breaks typ's rule, or "".
func checkValue(typ, value string) string {
	if value == "" {
		return "empty value"
	}
	if !utf8.ValidString(value) {
		return "not valid UTF-8"
	}
	n := utf8.RuneCountInString(value)
	switch typ {
	case "thing":
		if n > 20 {
			return tooLong(20, n)
		}
		return onlyRunes(value, "printable characters", func(r rune) bool { return !unicode.IsControl(r) })
	case "number":
		if n > 32 {
			return tooLong(32, n)
		}
		if !isDecimal(value) {
			return fmt.Sprintf("want digits with an optional decimal part, got %q", value)
		}
	case "letter":
		if n > 32 {
			return tooLong(32, n)
		}
		return onlyRunes(value, "letters", isLetter)
	case "symbol":
		if n > 5 {
			return tooLong(5, n)
		}
		return onlyRunes(value, "symbols", isSymbol)
	case "character_string":
		if n > 32 {
			return tooLong(32, n)
		}
		if strings.IndexFunc(value, isHan) >= 0 {
			return "Chinese characters are not allowed"
		}
		return onlyRunes(value, "digits, letters and symbols", func(r rune) bool {
			return isDigit(r) || isLetter(r) || isSymbol(r)
		})
	case "time":
		if !isRange(value, isTimePoint, isTimePoint) {
			return fmt.Sprintf("want a 24-hour time such as 15:01 or 2019年10月1日 15:01, got %q", value)
		}
	case "date":
		if !isRange(value, isDatePoint, func(s string) bool { return isDatePoint(s) || isClock(s) }) {
			return fmt.Sprintf("want a date such as 2019年10月1日 or 2019-10-01 15:01, got %q", value)
		}
	case "amount":
		return checkAmount(value)
	case "phone_number":
		if n > 17 {
			return tooLong(17, n)
		}
		if strings.IndexFunc(value, isDigit) < 0 {
			return "no digits"
		}
		return onlyRunes(value, "digits and symbols", func(r rune) bool { return isDigit(r) || isSymbol(r) })
	case "car_number":
		return checkCarNumber(value, n)
	case "name":
		return checkName(value, n)
	case "phrase":
		if n > 5 {
			return tooLong(5, n)
		}
		return onlyRunes(value, "Chinese characters", isHan)
	}
	return ""
}

func tooLong(max, n int) string {
	return fmt.Sprintf("at most %d characters, got %d", max, n)
}

// onlyRunes returns a reason naming the first rune of s that ok rejects.
func onlyRunes(s, want string, ok func(rune) bool) string {
	for _, r := range s {
		if !ok(r) {
			return fmt.Sprintf("only %s allowed, got %q", want, r)
		}
	}
	return ""
}

// checkAmount: one optional currency symbol, at most 10 digits with an
// optional decimal part, and an optional trailing 元 ("¥39.80", "39.8元").
// Thousands separators and signs are not in the rule, so they are refused.
func checkAmount(s string) string {
	rest := strings.TrimSuffix(s, "元")
	if r, size := utf8.DecodeRuneInString(rest); unicode.Is(unicode.Sc, r) {
		rest = rest[size:]
	}
	if !isDecimal(rest) {
		return fmt.Sprintf("want an optional currency symbol, digits with an optional decimal part and an optional 元, got %q", s)
	}
	if d := len(rest) - strings.Count(rest, "."); d > 10 {
		return fmt.Sprintf("at most 10 digits, got %d", d)
	}
	return ""
}

// checkCarNumber: at most 8 characters; the first and the last may be 汉字
// (粤A8Z888挂), the others are letters or digits.
func checkCarNumber(s string, n int) string {
	if n > 8 {
		return tooLong(8, n)
	}
	i := 0
	for _, r := range s {
		edge := i == 0 || i == n-1
		if !(isDigit(r) || isASCIILetter(r) || edge && isHan(r)) {
			return fmt.Sprintf("want letters and digits, with 汉字 only first or last, got %q", r)
		}
		i++
	}
	return ""
}

// checkName: at most 10 characters if the name holds any 汉字, otherwise at
// most 20 letters or symbols (a space or "·" between names is a symbol).
// Digits are not part of any name.
func checkName(s string, n int) string {
	if strings.IndexFunc(s, isHan) >= 0 {
		if n > 10 {
			return fmt.Sprintf("at most 10 characters for a Chinese name, got %d", n)
		}
	} else if n > 20 {
		return tooLong(20, n)
	}
	return onlyRunes(s, "汉字, letters and symbols", func(r rune) bool {
		return isHan(r) || isLetter(r) || isSymbol(r)
	})
}

func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }

func isDigit(r rune) bool { return '0' <= r && r <= '9' }

func isASCIILetter(r rune) bool { return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' }

// isLetter accepts Latin letters, accented ones included: 字母 in WeChat's
// rules means the alphabet, not every script Unicode calls a letter.
func isLetter(r rune) bool { return unicode.IsLetter(r) && unicode.Is(unicode.Latin, r) }

// isSymbol accepts punctuation, symbols (currency, maths, emoji) and the
// plain space, which WeChat's own examples put inside phone numbers.
func isSymbol(r rune) bool {
	return r == ' ' || !isHan(r) && (unicode.IsPunct(r) || unicode.IsSymbol(r))
}

// isDecimal reports whether s is digits with an optional ".digits".
func isDecimal(s string) bool {
	intPart, frac, hasDot := strings.Cut(s, ".")
	return allDigits(intPart) && (!hasDot || allDigits(frac))
}

// allDigits reports whether s is one or more ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
