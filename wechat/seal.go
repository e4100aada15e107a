package wechat

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"time"
)

// sealer encrypts the token for the shared cache with AES-GCM under a key
// derived from the account's credentials. Every process configured with the
// same account can read it; the database file alone reveals nothing.
type sealer struct{ aead cipher.AEAD }

func newSealer(secretMaterial ...string) *sealer {
	h := sha256.New()
	h.Write([]byte("megasend token cache v2"))
	for _, s := range secretMaterial {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	block, err := aes.NewCipher(h.Sum(nil))
	if err != nil {
		panic(err) // a 32-byte key cannot fail
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return &sealer{aead: aead}
}

func (s *sealer) seal(tok Token) ([]byte, error) {
	plain := binary.BigEndian.AppendUint64(nil, uint64(tok.ExpiresAt.UnixMilli()))
	plain = binary.BigEndian.AppendUint64(plain, uint64(tok.IssuedAt.UnixMilli()))
	plain = append(plain, tok.Value...)
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return s.aead.Seal(nonce, nonce, plain, nil), nil
}

func (s *sealer) open(sealed []byte) (Token, error) {
	ns := s.aead.NonceSize()
	if len(sealed) < ns {
		return Token{}, errors.New("sealed token too short")
	}
	plain, err := s.aead.Open(nil, sealed[:ns], sealed[ns:], nil)
	if err != nil || len(plain) < 16 {
		return Token{}, errors.New("sealed token does not open")
	}
	exp := time.UnixMilli(int64(binary.BigEndian.Uint64(plain)))
	issued := time.UnixMilli(int64(binary.BigEndian.Uint64(plain[8:])))
	return Token{Value: string(plain[16:]), IssuedAt: issued, ExpiresAt: exp}, nil
}
