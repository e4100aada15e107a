package apikey

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		key, hash := New()
		if !strings.HasPrefix(key, Prefix) || len(key) != Len {
			t.Fatalf("New() = %q: want %s and %d characters in all", key, Prefix, Len)
		}
		if err := Check(key); err != nil {
			t.Fatalf("Check(New()) = %v", err)
		}
		if !bytes.Equal(hash, Hash(key)) {
			t.Fatalf("New()'s hash is not Hash(key)")
		}
		if seen[key] {
			t.Fatalf("New() returned %q twice", key)
		}
		seen[key] = true
	}
	if Len != 47 {
		t.Errorf("Len = %d, want 47 (msk_ and 43 characters of base64 for 32 bytes)", Len)
	}
}

func TestHash(t *testing.T) {
	// SHA-256 of the whole key, prefix included: a known vector, so that
	// keys stored by one version are found by the next.
	key := "msk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	want := sha256.Sum256([]byte(key))
	if got := Hash(key); !bytes.Equal(got, want[:]) {
		t.Errorf("Hash(%q) = %x, want %x", key, got, want)
	}
	if got, want := hex.EncodeToString(Hash("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Errorf("Hash(abc) = %s, want %s", got, want)
	}
	if bytes.Equal(Hash(key), Hash(key[:len(key)-1]+"B")) {
		t.Error("two keys have the same hash")
	}
}

func TestCheck(t *testing.T) {
	good, _ := New()
	body := good[len(Prefix):]
	tests := []struct {
		name string
		key  string
		ok   bool
	}{
		{name: "OK", key: good, ok: true},
		{name: "AllZero", key: "msk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", ok: true},
		{name: "UnderscoreAndDash", key: Prefix + strings.Repeat("-_", 21) + "4", ok: true},
		{name: "Empty", key: ""},
		{name: "PrefixOnly", key: Prefix},
		{name: "NoPrefix", key: body},
		{name: "OtherPrefix", key: "sk_" + body + "A"},
		{name: "UpperPrefix", key: "MSK_" + body},
		{name: "Short", key: good[:Len-1]},
		{name: "Long", key: good + "A"},
		{name: "Padded", key: good[:Len-1] + "="},
		{name: "StdAlphabetPlus", key: good[:Len-2] + "+A"},
		{name: "StdAlphabetSlash", key: good[:Len-2] + "/A"},
		// 43 characters carry 258 bits: the last one's two low bits must be
		// zero, or two spellings would decode to the same key.
		{name: "NonCanonicalLast", key: "msk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB"},
		{name: "TrailingNewline", key: good[:Len-1] + "\n"},
		{name: "Space", key: " " + good[:Len-1]},
		{name: "NonASCII", key: good[:Len-2] + "é"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.key)
			if tt.ok {
				if err != nil {
					t.Errorf("Check(%q) = %v, want nil", tt.key, err)
				}
				return
			}
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Check(%q) = %v, want ErrMalformed", tt.key, err)
			}
			if len(tt.key) > len(Prefix) && strings.Contains(err.Error(), tt.key) {
				t.Errorf("Check's error quotes the key: %v", err)
			}
		})
	}
}

func TestCheckName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"crm", true},
		{"CRM-prod_2.eu", true},
		{"9lives", true},
		{strings.Repeat("a", 64), true},
		{"", false},
		{strings.Repeat("a", 65), false},
		{"-crm", false},
		{".hidden", false},
		{"_x", false},
		{"crm prod", false},
		{"crm/prod", false},
		{"crm\n", false},
		{"客户系统", false},
		{"crm;rm", false},
	}
	for _, tt := range tests {
		err := CheckName(tt.name)
		if tt.ok != (err == nil) {
			t.Errorf("CheckName(%q) = %v, want ok %v", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrBadName) {
			t.Errorf("CheckName(%q) = %v, want ErrBadName", tt.name, err)
		}
	}
}

// FuzzCheck: Check never panics, and what it accepts is a key New could
// have made: the prefix, Len characters, and one spelling of 32 bytes.
func FuzzCheck(f *testing.F) {
	good, _ := New()
	for _, s := range []string{good, "", Prefix, "msk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB", good + "=", "msk_" + strings.Repeat("/", 43)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		err := Check(key)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Check(%q) = %v, not ErrMalformed", key, err)
			}
			return
		}
		if len(key) != Len || !strings.HasPrefix(key, Prefix) {
			t.Fatalf("Check accepted %q", key)
		}
		b, err := encoding.DecodeString(key[len(Prefix):])
		if err != nil || len(b) != randomBytes || Prefix+encoding.EncodeToString(b) != key {
			t.Fatalf("Check accepted %q, which is not one spelling of 32 bytes", key)
		}
	})
}
