package wechat

// Safe mode (安全模式): how WeChat encrypts the pushes it posts to an
// account's callback URL, from its "消息加解密说明" and the technical notes
// behind it:
//
//	AESKey     = base64decode(EncodingAESKey + "=")         43 characters -> 32 bytes
//	plaintext  = random(16) | len(msg) as 4 bytes big-endian | msg | appid
//	ciphertext = AES-256-CBC(AESKey, IV = AESKey[:16], PKCS#7(plaintext, 32))
//	Encrypt    = base64(ciphertext)
//
// The padding is PKCS#7 to a multiple of 32 bytes (the key's length), not
// to AES's 16-byte block, so a pad byte runs from 1 to 32. Nothing in the
// scheme authenticates the ciphertext: that is msg_signature's job, and
// Receiver checks it before Decrypt ever sees the ciphertext, so that the
// differences between Decrypt's refusals are no padding oracle to anyone
// who does not hold the callback token.

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
)

// Safe mode's sizes.
const (
	// EncodingAESKeyLen is the length of an EncodingAESKey, the account's
	// message key as the MP console shows it.
	EncodingAESKeyLen = 43
	// padBlock is the multiple PKCS#7 pads to: the key's 32 bytes.
	padBlock = 32
	// randomLen and lenLen are the plaintext's random prefix and length field.
	randomLen = 16
	lenLen    = 4
)

// Errors of safe mode. Decrypt and NewCrypter wrap them with the reason, so
// test with errors.Is; no error text carries the key or the plaintext.
var (
	// ErrBadAESKey is an EncodingAESKey that is not 43 characters of base64.
	ErrBadAESKey = errors.New("bad EncodingAESKey")
	// ErrBadCiphertext is an Encrypt value that does not decrypt: not
	// base64, not whole AES blocks, bad PKCS#7 padding, or a message length
	// that overruns the plaintext. A callback answers it 400.
	ErrBadCiphertext = errors.New("ciphertext does not decrypt")
	// ErrForeignAppID is a message that decrypts but ends with an app id
	// other than the account's: encrypted for another account with the
	// same key. A callback answers it 403.
	ErrForeignAppID = errors.New("message is for another app id")
)

// Crypter encrypts and decrypts safe-mode messages for one account: its
// EncodingAESKey and app id. It is safe for concurrent use. Its String,
// GoString and LogValue show the app id only, never the key.
type Crypter struct {
	block cipher.Block
	iv    [aes.BlockSize]byte
	appID string
}

// NewCrypter returns a Crypter for the account's EncodingAESKey (43
// characters) and app id. It fails with ErrBadAESKey if the key is not 43
// characters of base64, and with another error if appID is empty, since
// every message must be checked against it.
func NewCrypter(encodingAESKey, appID string) (*Crypter, error) {
	if len(encodingAESKey) != EncodingAESKeyLen {
		return nil, fmt.Errorf("%w: want %d characters, got %d", ErrBadAESKey, EncodingAESKeyLen, len(encodingAESKey))
	}
	// Not base64.StdEncoding.Strict: 43 characters carry 258 bits, and the
	// console's keys use the last character's two spare bits freely.
	key, err := base64.StdEncoding.DecodeString(encodingAESKey + "=")
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("%w: not base64 (letters and digits)", ErrBadAESKey)
	}
	if appID == "" {
		return nil, errors.New("new crypter: empty app id")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("new crypter: %w", err) // unreachable: the key is 32 bytes
	}
	c := &Crypter{block: block, appID: appID}
	copy(c.iv[:], key)
	return c, nil
}

// AppID returns the app id the Crypter seals messages for and accepts.
func (c *Crypter) AppID() string { return c.appID }

// Decrypt opens an Encrypt value and returns the message inside, having
// checked that it ends with the account's app id. It returns an error
// wrapping ErrBadCiphertext for anything that does not decrypt and
// ErrForeignAppID for another account's message; it never panics.
func (c *Crypter) Decrypt(b64 string) ([]byte, error) {
	ct, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("%w: not base64", ErrBadCiphertext)
	}
	// The smallest message (empty, one-byte app id) pads to one 32-byte
	// block; anything shorter or ragged was not made by the scheme.
	if len(ct) < padBlock || len(ct)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("%w: %d bytes is not whole AES blocks of a message", ErrBadCiphertext, len(ct))
	}
	plain := make([]byte, len(ct))
	cipher.NewCBCDecrypter(c.block, c.iv[:]).CryptBlocks(plain, ct)

	pad := int(plain[len(plain)-1])
	if pad < 1 || pad > padBlock {
		return nil, fmt.Errorf("%w: bad padding", ErrBadCiphertext)
	}
	// Every pad byte is checked, not just the last: a wrong key or a
	// damaged ciphertext is caught here rather than read as a message.
	bad := 0
	for _, b := range plain[len(plain)-pad:] {
		bad |= int(b) ^ pad
	}
	if bad != 0 {
		return nil, fmt.Errorf("%w: bad padding", ErrBadCiphertext)
	}
	plain = plain[:len(plain)-pad]

	if len(plain) < randomLen+lenLen {
		return nil, fmt.Errorf("%w: too short for the random prefix and length", ErrBadCiphertext)
	}
	n := uint64(binary.BigEndian.Uint32(plain[randomLen:]))
	rest := plain[randomLen+lenLen:]
	if n > uint64(len(rest)) {
		return nil, fmt.Errorf("%w: message length %d overruns the %d bytes left", ErrBadCiphertext, n, len(rest))
	}
	msg, appID := rest[:n:n], rest[n:]
	if subtle.ConstantTimeCompare(appID, []byte(c.appID)) != 1 {
		return nil, ErrForeignAppID
	}
	return msg, nil
}

// Encrypt seals msg for the account as WeChat does, with 16 fresh random
// bytes in front, and returns the base64 Encrypt value. It fails only if
// the system's random source does, or if msg is 4 GiB or more.
func (c *Crypter) Encrypt(msg []byte) (string, error) {
	var random [randomLen]byte
	if _, err := io.ReadFull(rand.Reader, random[:]); err != nil {
		return "", fmt.Errorf("encrypt: %w", err)
	}
	return c.encrypt(random, msg)
}

// encrypt is Encrypt with the random prefix given, for known vectors.
func (c *Crypter) encrypt(random [randomLen]byte, msg []byte) (string, error) {
	if uint64(len(msg)) > math.MaxUint32 {
		return "", fmt.Errorf("encrypt: a %d-byte message does not fit the 4-byte length", len(msg))
	}
	n := randomLen + lenLen + len(msg) + len(c.appID)
	pad := padBlock - n%padBlock // 1..32: a full block when n is a multiple
	buf := make([]byte, 0, n+pad)
	buf = append(buf, random[:]...)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(msg)))
	buf = append(buf, msg...)
	buf = append(buf, c.appID...)
	for range pad {
		buf = append(buf, byte(pad))
	}
	cipher.NewCBCEncrypter(c.block, c.iv[:]).CryptBlocks(buf, buf)
	return base64.StdEncoding.EncodeToString(buf), nil
}

// String shows the app id only: a Crypter printed by mistake must not
// reveal the key (fmt would otherwise print the cipher's key schedule).
// The value receiver covers a dereferenced Crypter too.
func (c Crypter) String() string { return "wechat.Crypter(" + c.appID + ")" }

// GoString is String, for %#v.
func (c Crypter) GoString() string { return c.String() }

// LogValue is String, for log/slog.
func (c Crypter) LogValue() slog.Value { return slog.StringValue(c.String()) }
