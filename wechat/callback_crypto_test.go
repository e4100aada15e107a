package wechat

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// docVector is a safe-mode push worked through in public: the example of
// 方倍工作室's walkthrough of WeChat's message encryption (cnblogs, txw1958,
// "weixin-aes-encrypt-decrypt"), made with WeChat's own sample code, and
// used as test data by twinh/wei (tests/WeiTest/WeChatAppTest.php,
// testEncrypt). Its signatures were checked with sha1sum and its
// plaintext with openssl before it went in here.
var docVector = struct {
	token, appID, aesKey             string
	timestamp, nonce                 string
	signature, msgSignature, encrypt string
	random                           string
	plain                            string
}{
	token:        "weixin",
	appID:        "wxbad0b45542aa0b5e",
	aesKey:       "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
	timestamp:    "1414243737",
	nonce:        "1792106704",
	signature:    "35703636de2f9df2a77a662b68e521ce17c34db4",
	msgSignature: "6147984331daf7a1a9eed6e0ec3ba69055256154",
	encrypt: "MNn4+jJ/VsFh2gUyKAaOJArwEVYCvVmyN0iXzNarP3O6vXzK62ft1/KG2/XPZ4y5bPWU/jfIfQxODRQ7sLkUsrDRqsWimuhI" +
		"T8Eq+w4E/28m+XDAQKEOjWTQIOp1p6kNsIV1DdC3B+AtcKcKSNAeJDr7x7GHLx5DZYK09qQsYDOjP6R5NqebFjKt/NpEl/GU3gWF" +
		"wG8LCtRNuIYdK5axbFSfmXbh5CZ6Bk5wSwj5fu5aS90cMAgUhGsxrxZTY562QR6c+3ydXxb+GHI5w+qA+eqJjrQqR7u5hS+1x5sE" +
		"sA7vS+bZ5LYAR3+PZ243avQkGllQ+rg7a6TeSGDxxhvLw+mxxinyk88BNHkJnyK//hM1k9PuvuLAASdaud4vzRQlAmnYOslZl8CN" +
		"7gjCjV41skUTZv3wwGPxvEqtm/nf5fQ=",
	random: "fd219fb17e4d1657",
	plain: "<xml><ToUserName><![CDATA[gh_680bdefc8c5d]]></ToUserName>\n" +
		"<FromUserName><![CDATA[oIDrpjpQ8j8mBuQ8nM26HWzNEZgg]]></FromUserName>\n" +
		"<CreateTime>1414243737</CreateTime>\n" +
		"<MsgType><![CDATA[text]]></MsgType>\n" +
		"<Content><![CDATA[?]]></Content>\n" +
		"<MsgId>6074130599188426998</MsgId>\n" +
		"</xml>",
}

// testAESKey and testAppID are this package's own fixture account.
const (
	testAESKey = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
	testAppID  = "wx5a4d3b2c1e0f9a8b"
)

func mustCrypter(tb testing.TB, key, appID string) *Crypter {
	tb.Helper()
	c, err := NewCrypter(key, appID)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// sealByHand encrypts plain (whole AES blocks) under key as safe mode
// does, with nothing from callback_crypto.go but the key's decoding rule,
// so that malformed plaintexts can be made for Decrypt to refuse.
func sealByHand(tb testing.TB, encodingAESKey string, plain []byte) string {
	tb.Helper()
	key, err := base64.StdEncoding.DecodeString(encodingAESKey + "=")
	if err != nil {
		tb.Fatal(err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, key[:16]).CryptBlocks(out, plain)
	return base64.StdEncoding.EncodeToString(out)
}

// frame lays out random | length | msg | appid and pads it with PKCS#7 to
// 32 bytes, each step written out from the documented algorithm.
func frame(random string, length uint32, msg, appID string) []byte {
	var b []byte
	b = append(b, random...)
	b = binary.BigEndian.AppendUint32(b, length)
	b = append(b, msg...)
	b = append(b, appID...)
	pad := 32 - len(b)%32
	return append(b, bytes.Repeat([]byte{byte(pad)}, pad)...)
}

func TestCrypter_DocVector(t *testing.T) {
	c := mustCrypter(t, docVector.aesKey, docVector.appID)
	got, err := c.Decrypt(docVector.encrypt)
	if err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	if string(got) != docVector.plain {
		t.Fatalf("Decrypt =\n%s\nwant\n%s", got, docVector.plain)
	}
	// With the vector's random prefix, Encrypt must give WeChat's bytes.
	var random [16]byte
	copy(random[:], docVector.random)
	enc, err := c.encrypt(random, []byte(docVector.plain))
	if err != nil {
		t.Fatal(err)
	}
	if enc != docVector.encrypt {
		t.Fatalf("encrypt =\n%s\nwant\n%s", enc, docVector.encrypt)
	}
}

// TestCrypter_HandVector builds the ciphertext step by step from the
// documented algorithm and checks both directions against it, for message
// lengths that land on every padding case around the 32-byte boundary.
func TestCrypter_HandVector(t *testing.T) {
	c := mustCrypter(t, testAESKey, testAppID)
	const random = "0123456789abcdef"
	// 16 + 4 + len(appid)=18 leaves 38; these msg lengths pad 26, 1, 32, 31.
	for _, n := range []int{0, 25, 26, 27, 58, 500} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			msg := strings.Repeat("m", n)
			want := sealByHand(t, testAESKey, frame(random, uint32(n), msg, testAppID))
			var r [16]byte
			copy(r[:], random)
			got, err := c.encrypt(r, []byte(msg))
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("encrypt = %s, want %s", got, want)
			}
			back, err := c.Decrypt(want)
			if err != nil || string(back) != msg {
				t.Fatalf("Decrypt = %q, %v; want %q", back, err, msg)
			}
		})
	}
}

func TestCrypter_Decrypt_Refusals(t *testing.T) {
	c := mustCrypter(t, testAESKey, testAppID)
	const random = "0123456789abcdef"
	msg := "<xml></xml>"
	good := frame(random, uint32(len(msg)), msg, testAppID)
	withLastBytes := func(last ...byte) []byte {
		b := bytes.Clone(good)
		copy(b[len(b)-len(last):], last)
		return b
	}
	tests := []struct {
		name string
		b64  string
		want error
	}{
		{"Empty", "", ErrBadCiphertext},
		{"NotBase64", "!!!!", ErrBadCiphertext},
		{"URLBase64", strings.NewReplacer("+", "-", "/", "_").Replace(docVector.encrypt), ErrBadCiphertext},
		{"OneBlock", base64.StdEncoding.EncodeToString(make([]byte, 16)), ErrBadCiphertext},
		{"Ragged", base64.StdEncoding.EncodeToString(make([]byte, 40)), ErrBadCiphertext},
		{"PadZero", sealByHand(t, testAESKey, withLastBytes(0)), ErrBadCiphertext},
		{"PadOver32", sealByHand(t, testAESKey, withLastBytes(33)), ErrBadCiphertext},
		// 33 bytes of 33 after a well-formed frame: only the 1..32 rule refuses it.
		{"PadOver32Consistent", sealByHand(t, testAESKey, append(frame(random, 9, "123456789", testAppID)[:47], bytes.Repeat([]byte{33}, 33)...)), ErrBadCiphertext},
		{"PadUneven", sealByHand(t, testAESKey, withLastBytes(4, 3, 3)), ErrBadCiphertext},
		{"PadWholeBuffer", sealByHand(t, testAESKey, bytes.Repeat([]byte{32}, 32)), ErrBadCiphertext},
		{"TooShortForLength", sealByHand(t, testAESKey, append([]byte(random+"abc"), bytes.Repeat([]byte{13}, 13)...)), ErrBadCiphertext},
		{"LengthOverruns", sealByHand(t, testAESKey, frame(random, uint32(len(msg)+len(testAppID)+1), msg, testAppID)), ErrBadCiphertext},
		{"LengthHuge", sealByHand(t, testAESKey, frame(random, 0xFFFFFFFF, msg, testAppID)), ErrBadCiphertext},
		{"ForeignAppID", sealByHand(t, testAESKey, frame(random, uint32(len(msg)), msg, "wx0000000000000000")), ErrForeignAppID},
		{"AppIDPrefixOnly", sealByHand(t, testAESKey, frame(random, uint32(len(msg)), msg, testAppID[:10])), ErrForeignAppID},
		{"NoAppID", sealByHand(t, testAESKey, frame(random, uint32(len(msg)), msg, "")), ErrForeignAppID},
		{"OtherKey", docVector.encrypt, nil}, // some refusal; which depends on the garbage
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Decrypt(tt.b64)
			if err == nil {
				t.Fatalf("Decrypt = %q, want an error", got)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !errors.Is(err, ErrBadCiphertext) && !errors.Is(err, ErrForeignAppID) {
				t.Fatalf("err = %v is neither sentinel", err)
			}
		})
	}
	// The unmodified frame decrypts: the refusals above are about their edits.
	if got, err := c.Decrypt(sealByHand(t, testAESKey, good)); err != nil || string(got) != msg {
		t.Fatalf("good frame: %q, %v", got, err)
	}
}

func TestNewCrypter(t *testing.T) {
	tests := []struct {
		name, key, appID string
		wantBadKey       bool
	}{
		{name: "OK", key: testAESKey, appID: testAppID},
		{name: "Short", key: testAESKey[:42], appID: testAppID, wantBadKey: true},
		{name: "Long", key: testAESKey + "A", appID: testAppID, wantBadKey: true},
		{name: "Padded", key: testAESKey[:42] + "=", appID: testAppID, wantBadKey: true},
		{name: "NotBase64", key: testAESKey[:42] + "!", appID: testAppID, wantBadKey: true},
		{name: "Empty", key: "", appID: testAppID, wantBadKey: true},
		{name: "NoAppID", key: testAESKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewCrypter(tt.key, tt.appID)
			if tt.name == "OK" {
				if err != nil || c.AppID() != testAppID {
					t.Fatalf("NewCrypter = %v, %v", c, err)
				}
				return
			}
			if err == nil {
				t.Fatal("want an error")
			}
			if errors.Is(err, ErrBadAESKey) != tt.wantBadKey {
				t.Errorf("err = %v, ErrBadAESKey %v", err, tt.wantBadKey)
			}
			if tt.key != "" && strings.Contains(err.Error(), tt.key[:20]) {
				t.Errorf("err %q shows the key", err)
			}
		})
	}
}

// A Crypter printed or logged by mistake shows its app id, not its key.
func TestCrypter_NoKeyWhenPrinted(t *testing.T) {
	c := mustCrypter(t, testAESKey, testAppID)
	key, _ := base64.StdEncoding.DecodeString(testAESKey + "=")
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "crypter", c)
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "crypter", c)
	for _, s := range []string{
		fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s", c, c, c, c), fmt.Sprintf("%v", *c), fmt.Sprintf("%+v", []*Crypter{c}), logged.String(),
	} {
		if strings.Contains(s, testAESKey) || strings.Contains(s, string(key[:8])) ||
			strings.Contains(s, fmt.Sprint(key[:8])) || strings.Contains(s, fmt.Sprintf("%x", key[:8])) {
			t.Errorf("printed %q shows the key", s)
		}
		if !strings.Contains(s, testAppID) {
			t.Errorf("printed %q does not name the app id", s)
		}
	}
}

func TestCrypter_RoundTrip(t *testing.T) {
	c := mustCrypter(t, testAESKey, testAppID)
	for n := range 100 {
		msg := bytes.Repeat([]byte{byte(n)}, n)
		enc, err := c.Encrypt(msg)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Decrypt(enc)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("len %d: Decrypt(Encrypt) = %q, %v", n, got, err)
		}
	}
	// Two encryptions of one message differ: the prefix is random.
	a, _ := c.Encrypt([]byte("same"))
	b, _ := c.Encrypt([]byte("same"))
	if a == b {
		t.Error("Encrypt is deterministic; want a fresh random prefix each time")
	}
}
