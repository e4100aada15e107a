package wechattest

// What a delivery receipt looks like on the wire, built the way WeChat
// builds it (wechat-api.md §10, WeChat's "消息加解密说明") and written here
// independently of the wechat package's callback code, so that tests which
// open the sandbox's receipts with wechat.Receiver cross-check two
// implementations instead of one against itself.
//
//	POST CALLBACK?signature=S&timestamp=T&nonce=N&openid=O
//	S = hex(sha1(concat(sort(token, T, N))))
//
// and in safe mode additionally &encrypt_type=aes&msg_signature=M, with
// the receipt encrypted into the body's <Encrypt>:
//
//	M       = hex(sha1(concat(sort(token, T, N, Encrypt))))
//	Encrypt = base64(AES-256-CBC(key, iv = key[:16],
//	          PKCS#7-32(random(16) | len(xml) uint32 BE | xml | appid)))
//	key     = base64decode(EncodingAESKey + "=")

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Receipt statuses, as WeChat writes them (the space after one colon and
// not the other is WeChat's).
const (
	statusSuccess      = "success"
	statusUserBlock    = "failed:user block"
	statusSystemFailed = "failed: system failed"
)

// receiptXML is the plain receipt: TEMPLATESENDJOBFINISH for msgID.
// openid and status never contain "]]>": openids are checked against the
// openid pattern before a send is accepted, statuses are the constants.
func receiptXML(originalID, openID string, createTime, msgID int64, status string) []byte {
	var b strings.Builder
	b.Grow(320)
	b.WriteString("<xml><ToUserName><![CDATA[")
	b.WriteString(originalID)
	b.WriteString("]]></ToUserName><FromUserName><![CDATA[")
	b.WriteString(openID)
	b.WriteString("]]></FromUserName><CreateTime>")
	b.WriteString(strconv.FormatInt(createTime, 10))
	b.WriteString("</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event><MsgID>")
	b.WriteString(strconv.FormatInt(msgID, 10))
	b.WriteString("</MsgID><Status><![CDATA[")
	b.WriteString(status)
	b.WriteString("]]></Status></xml>")
	return []byte(b.String())
}

// envelopeXML is safe mode's body: the account and the ciphertext only.
func envelopeXML(originalID, encrypt string) []byte {
	return []byte("<xml><ToUserName><![CDATA[" + originalID + "]]></ToUserName><Encrypt><![CDATA[" + encrypt + "]]></Encrypt></xml>")
}

// callbackSignature is WeChat's signature over parts: sorted, joined, SHA-1.
func callbackSignature(parts ...string) string {
	s := slices.Clone(parts)
	slices.Sort(s)
	sum := sha1.Sum([]byte(strings.Join(s, "")))
	return hex.EncodeToString(sum[:])
}

// originalID makes up the account's original id (gh_ and 12 hex digits,
// the shape of a real one) from its app id, so that it is stable.
func originalID(appID string) string {
	sum := sha1.Sum([]byte("megasend sandbox original id " + appID))
	return "gh_" + hex.EncodeToString(sum[:6])
}

// callbackCipher encrypts receipts for safe mode.
type callbackCipher struct {
	block cipher.Block
	iv    []byte
	appID string
}

// newCallbackCipher checks an EncodingAESKey (43 characters of base64, 32
// bytes once "=" is appended) and returns its cipher. Errors never show
// the key.
func newCallbackCipher(encodingAESKey, appID string) (*callbackCipher, error) {
	if len(encodingAESKey) != 43 {
		return nil, fmt.Errorf("want 43 characters, got %d", len(encodingAESKey))
	}
	key, err := base64.StdEncoding.DecodeString(encodingAESKey + "=")
	if err != nil || len(key) != 32 {
		return nil, errors.New("not base64 (letters and digits)")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return &callbackCipher{block: block, iv: key[:aes.BlockSize], appID: appID}, nil
}

// encrypt returns the Encrypt value for msg, with a fresh random prefix.
func (c *callbackCipher) encrypt(msg []byte) (string, error) {
	var random [16]byte
	if _, err := rand.Read(random[:]); err != nil {
		return "", err
	}
	return c.seal(random, msg), nil
}

// seal is encrypt with the random prefix given, for known vectors.
func (c *callbackCipher) seal(random [16]byte, msg []byte) string {
	plain := make([]byte, 0, 16+4+len(msg)+len(c.appID)+32)
	plain = append(plain, random[:]...)
	plain = binary.BigEndian.AppendUint32(plain, uint32(len(msg)))
	plain = append(plain, msg...)
	plain = append(plain, c.appID...)
	pad := 32 - len(plain)%32
	for range pad {
		plain = append(plain, byte(pad))
	}
	cipher.NewCBCEncrypter(c.block, c.iv).CryptBlocks(plain, plain)
	return base64.StdEncoding.EncodeToString(plain)
}

// receiptRequest is the query and body of one try of a receipt: freshly
// signed, and encrypted if c is not nil. base is the callback URL's own
// query, kept.
func receiptRequest(base url.Values, token string, c *callbackCipher, originalID, openID string,
	xml []byte, timestamp int64, nonce string) (url.Values, []byte, error) {
	q := make(url.Values, len(base)+6)
	for k, v := range base {
		q[k] = slices.Clone(v)
	}
	ts := strconv.FormatInt(timestamp, 10)
	q.Set("signature", callbackSignature(token, ts, nonce))
	q.Set("timestamp", ts)
	q.Set("nonce", nonce)
	q.Set("openid", openID)
	if c == nil {
		return q, xml, nil
	}
	enc, err := c.encrypt(xml)
	if err != nil {
		return nil, nil, err
	}
	q.Set("encrypt_type", "aes")
	q.Set("msg_signature", callbackSignature(token, ts, nonce, enc))
	return q, envelopeXML(originalID, enc), nil
}
