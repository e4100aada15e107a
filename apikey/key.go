// Package apikey owns the API keys of `megasend serve`: what a key looks
// like, how it is hashed, and the keys an account has, kept in the store
// as hashes only.
//
// A key is "msk_" followed by 43 characters of URL-safe base64 (32 random
// bytes): msk_ makes a leaked key recognisable to a person and to secret
// scanners, and the rest is safe in a header, a URL or a shell without
// quoting.
package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Prefix starts every key.
const Prefix = "msk_"

// randomBytes is how much randomness a key carries.
const randomBytes = 32

// encoding spells a key's random bytes. Strict: each key has exactly one
// spelling, so a key that Check accepts is the key New printed.
var encoding = base64.RawURLEncoding.Strict()

// Len is the length of every key: the prefix and the 43 characters that
// spell 32 bytes in unpadded base64.
const Len = len(Prefix) + (randomBytes*8+5)/6

// ErrMalformed is returned by Check for a string that cannot be a key.
var ErrMalformed = errors.New("not a megasend API key")

// New returns a fresh key and its hash. Only the hash may be stored; the
// key is shown once to whoever asked for it.
func New() (key string, hash []byte) {
	b := make([]byte, randomBytes)
	rand.Read(b) // never fails (Go 1.24+): crypto/rand crashes the program rather than return short
	key = Prefix + encoding.EncodeToString(b)
	return key, Hash(key)
}

// Hash returns the hash under which key is stored and looked up: SHA-256
// of the whole key. A slow, salted password hash such as bcrypt protects a
// secret a person chose, which can be guessed; a key is 256 random bits,
// which cannot, even at billions of SHA-256 a second, so a fast hash gives
// away nothing. And it is unsalted, so the store finds a key by its hash
// through an index, in one lookup, where bcrypt would have to be run
// against every stored key on every request.
func Hash(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// Check returns an error wrapping ErrMalformed unless key is spelled as
// New spells keys: the prefix, then 43 URL-safe base64 characters that
// decode to 32 bytes. The error never quotes the key: a string given as a
// key may be one with a typo, or another secret pasted by mistake.
func Check(key string) error {
	rest, ok := strings.CutPrefix(key, Prefix)
	switch {
	case key == "":
		return fmt.Errorf("%w: empty", ErrMalformed)
	case !ok:
		return fmt.Errorf("%w: it does not start with %s", ErrMalformed, Prefix)
	case len(key) != Len:
		return fmt.Errorf("%w: want %d characters, got %d", ErrMalformed, Len, len(key))
	}
	if b, err := encoding.DecodeString(rest); err != nil || len(b) != randomBytes {
		return fmt.Errorf("%w: want %s followed by URL-safe base64", ErrMalformed, Prefix)
	}
	return nil
}
