package apikey

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/megasend/megasend/store"
)

// ErrBadName is returned by Add for a name outside the alphabet CheckName
// allows.
var ErrBadName = errors.New("bad API key name")

// namePattern is what a key's name may be: it is printed in lists and
// logs, and given on command lines and in URLs, so nothing there needs
// quoting or escaping and no two names look alike.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// CheckName returns an error wrapping ErrBadName unless name is 1 to 64
// letters (ASCII), digits, '.', '_' and '-', starting with a letter or a
// digit.
func CheckName(name string) error {
	if !namePattern.MatchString(name) {
		return fmt.Errorf("%w %q: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit",
			ErrBadName, name)
	}
	return nil
}

// ErrWrongKey is matched (errors.Is) by every *WrongKeyError.
var ErrWrongKey = errors.New("wrong API key")

// WrongKeyError is Authenticate's refusal of a key: missing, malformed,
// or not one of the stored keys (never added, or removed). Reason says
// which, for the client's error message; it never quotes the key.
type WrongKeyError struct {
	Reason string
}

func (e *WrongKeyError) Error() string { return ErrWrongKey.Error() + ": " + e.Reason }

// Is makes errors.Is(err, ErrWrongKey) true.
func (e *WrongKeyError) Is(target error) bool { return target == ErrWrongKey }

// Keys are the API keys kept in a database.
type Keys struct {
	db *store.DB
	// trust is how long a key found in the database is taken for good
	// without asking it again: a service authenticates every request, and
	// the lookup cost a fifth of accepting a message. So a key removed by
	// another process ('megasend apikey rm' beside a running serve) stops
	// working within trust; one removed through these Keys, at once.
	trust time.Duration

	mu    sync.Mutex
	known map[[sha256.Size]byte]knownKey // by the key's hash
}

// knownKey is a key found in the database, and when.
type knownKey struct {
	account, name string
	at            time.Time
}

// trustFor is Keys.trust unless a test changes it.
const trustFor = time.Second

// NewKeys returns the keys kept in db.
func NewKeys(db *store.DB) *Keys { return &Keys{db: db, trust: trustFor} }

// Add makes a new key called name for account and returns it. Only its
// hash is stored: the key returned is the only copy. It returns an error
// wrapping ErrBadName for a name CheckName refuses, and one wrapping
// store.ErrExists if a key already has the name. account is the name of
// one of the configuration's accounts; Add does not check that it is.
func (k *Keys) Add(ctx context.Context, name, account string) (string, error) {
	if err := CheckName(name); err != nil {
		return "", err
	}
	if account == "" {
		return "", fmt.Errorf("add api key %s: empty account", name)
	}
	key, hash := New()
	if err := k.db.AddAPIKey(ctx, name, account, hash); err != nil {
		return "", err
	}
	return key, nil
}

// List returns every key, sorted by name: names, accounts and times, never
// a key or its hash.
func (k *Keys) List(ctx context.Context) ([]store.APIKey, error) {
	return k.db.APIKeys(ctx)
}

// Remove deletes the key called name: requests made with it are refused
// from then on. It returns an error wrapping store.ErrNotFound if there is
// no key of that name.
func (k *Keys) Remove(ctx context.Context, name string) error {
	k.mu.Lock()
	clear(k.known)
	k.mu.Unlock()
	return k.db.RemoveAPIKey(ctx, name)
}

// Authenticate returns the account and the name of key, and records that
// it was used (to within a minute). A key that is empty, malformed, or not
// stored is a *WrongKeyError; other errors are the database's.
//
// The key is never compared with anything: it is hashed, and the hash is
// looked up. So the time a refusal takes depends on the hash of what was
// sent, which says nothing about any stored key, and not on how much of a
// stored key a guess got right.
func (k *Keys) Authenticate(ctx context.Context, key string) (account, name string, err error) {
	if key == "" {
		return "", "", &WrongKeyError{Reason: "no key given"}
	}
	if err := Check(key); err != nil {
		return "", "", &WrongKeyError{Reason: err.Error()}
	}
	hash := Hash(key)
	id := [sha256.Size]byte(hash)
	now := time.Now()
	k.mu.Lock()
	kk, ok := k.known[id]
	k.mu.Unlock()
	if ok && now.Sub(kk.at) < k.trust {
		return kk.account, kk.name, nil
	}
	ak, err := k.db.APIKeyByHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return "", "", &WrongKeyError{Reason: "no such key (never added, or removed)"}
	}
	if err != nil {
		return "", "", fmt.Errorf("authenticate: %w", err)
	}
	k.mu.Lock()
	if k.known == nil {
		k.known = map[[sha256.Size]byte]knownKey{}
	}
	k.known[id] = knownKey{account: ak.Account, name: ak.Name, at: now}
	k.mu.Unlock()
	return ak.Account, ak.Name, nil
}
