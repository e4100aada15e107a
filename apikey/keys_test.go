package apikey

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/megasend/megasend/store"
)

// mustKeys opens the keys of a fresh database in a temporary directory.
func mustKeys(tb testing.TB) (*Keys, *store.DB) {
	tb.Helper()
	db, err := store.Open(context.Background(), filepath.Join(tb.TempDir(), "megasend.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return NewKeys(db), db
}

func TestKeys_Add(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		keys, db := mustKeys(t)
		key, err := keys.Add(ctx, "crm", "main")
		if err != nil {
			t.Fatal(err)
		}
		if err := Check(key); err != nil {
			t.Fatalf("Add() returned %q: %v", key, err)
		}
		account, name, err := keys.Authenticate(ctx, key)
		if err != nil || account != "main" || name != "crm" {
			t.Errorf("Authenticate(the new key) = %q, %q, %v, want main, crm", account, name, err)
		}
		// The database holds the hash, never the key: not in the file, not
		// in its write-ahead log (where the hash is, until a checkpoint).
		var files [][]byte
		for _, suffix := range []string{"", "-wal"} {
			data, err := os.ReadFile(db.Path() + suffix)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(data, []byte(key)) || bytes.Contains(data, []byte(key[len(Prefix):])) {
				t.Errorf("%s holds the key", db.Path()+suffix)
			}
			files = append(files, data)
		}
		if !bytes.Contains(bytes.Join(files, nil), Hash(key)) {
			t.Error("the database files do not hold the key's hash: the check above looked in the wrong place")
		}
	})
	t.Run("ErrExists", func(t *testing.T) {
		keys, _ := mustKeys(t)
		first, err := keys.Add(ctx, "crm", "main")
		if err != nil {
			t.Fatal(err)
		}
		if key, err := keys.Add(ctx, "crm", "shop"); !errors.Is(err, store.ErrExists) || key != "" {
			t.Fatalf("Add() of a taken name = %q, %v, want ErrExists", key, err)
		}
		if account, _, err := keys.Authenticate(ctx, first); err != nil || account != "main" {
			t.Errorf("the first key now authenticates as %q, %v", account, err)
		}
	})
	tests := []struct {
		name, key, account string
		wantErr            error
	}{
		{name: "ErrBadName", key: "crm prod", account: "main", wantErr: ErrBadName},
		{name: "ErrEmptyName", key: "", account: "main", wantErr: ErrBadName},
		{name: "ErrEmptyAccount", key: "crm", account: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, _ := mustKeys(t)
			key, err := keys.Add(ctx, tt.key, tt.account)
			if err == nil || key != "" {
				t.Fatalf("Add() = %q, %v, want an error", key, err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Add() = %v, want %v", err, tt.wantErr)
			}
			if list, err := keys.List(ctx); err != nil || len(list) != 0 {
				t.Errorf("List() = %+v, %v after a refused add", list, err)
			}
		})
	}
}

func TestKeys_Authenticate(t *testing.T) {
	ctx := context.Background()
	keys, _ := mustKeys(t)
	crm, err := keys.Add(ctx, "crm", "main")
	if err != nil {
		t.Fatal(err)
	}
	shop, err := keys.Add(ctx, "shop-web", "shop")
	if err != nil {
		t.Fatal(err)
	}
	removed, err := keys.Add(ctx, "old", "main")
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.Remove(ctx, "old"); err != nil {
		t.Fatal(err)
	}
	never, _ := New()
	// A stored key with its last character changed: well formed, and
	// nearly right.
	last := "A"
	if strings.HasSuffix(crm, "A") {
		last = "E"
	}
	nearly := crm[:Len-1] + last

	tests := []struct {
		name          string
		key           string
		account, user string // want; empty for a refusal
		reason        string
	}{
		{name: "OK", key: crm, account: "main", user: "crm"},
		{name: "OtherAccount", key: shop, account: "shop", user: "shop-web"},
		{name: "ErrEmpty", key: "", reason: "no key given"},
		{name: "ErrMalformed", key: "Bearer " + crm, reason: "does not start with msk_"},
		{name: "ErrTruncated", key: crm[:Len-1], reason: "want 47 characters"},
		{name: "ErrNeverAdded", key: never, reason: "no such key"},
		{name: "ErrNearly", key: nearly, reason: "no such key"},
		{name: "ErrRemoved", key: removed, reason: "no such key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			account, name, err := keys.Authenticate(ctx, tt.key)
			if tt.account != "" {
				if err != nil || account != tt.account || name != tt.user {
					t.Errorf("Authenticate() = %q, %q, %v, want %q, %q", account, name, err, tt.account, tt.user)
				}
				return
			}
			var we *WrongKeyError
			if !errors.As(err, &we) || !errors.Is(err, ErrWrongKey) {
				t.Fatalf("Authenticate() = %q, %q, %v, want a *WrongKeyError", account, name, err)
			}
			if account != "" || name != "" {
				t.Errorf("a refused key gave account %q, name %q", account, name)
			}
			if !strings.Contains(we.Reason, tt.reason) {
				t.Errorf("reason %q, want it to say %q", we.Reason, tt.reason)
			}
			if tt.key != "" && strings.Contains(err.Error(), tt.key[min(len(tt.key), 7):]) {
				t.Errorf("the error quotes the key: %v", err)
			}
		})
	}
}

func TestKeys_List(t *testing.T) {
	ctx := context.Background()
	keys, _ := mustKeys(t)
	if list, err := keys.List(ctx); err != nil || len(list) != 0 {
		t.Fatalf("List() of a new database = %+v, %v", list, err)
	}
	for _, k := range []struct{ name, account string }{{"web", "main"}, {"crm", "shop"}} {
		if _, err := keys.Add(ctx, k.name, k.account); err != nil {
			t.Fatal(err)
		}
	}
	list, err := keys.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != "crm" || list[0].Account != "shop" || list[1].Name != "web" || list[1].Account != "main" {
		t.Errorf("List() = %+v, want crm (shop) then web (main)", list)
	}
}

func TestKeys_Remove(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		keys, _ := mustKeys(t)
		key, err := keys.Add(ctx, "crm", "main")
		if err != nil {
			t.Fatal(err)
		}
		if err := keys.Remove(ctx, "crm"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := keys.Authenticate(ctx, key); !errors.Is(err, ErrWrongKey) {
			t.Errorf("a removed key authenticates: %v", err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		keys, _ := mustKeys(t)
		if err := keys.Remove(ctx, "crm"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Remove(missing) = %v, want store.ErrNotFound", err)
		}
	})
}

// TestKeys_RemovedElsewhere: a key found once is trusted for a while
// without a lookup; removed through the same Keys it stops at once, removed
// by another process (other Keys over the same file) once the trust ends.
func TestKeys_RemovedElsewhere(t *testing.T) {
	ctx := context.Background()
	keys, db := mustKeys(t)
	keys.trust = time.Hour
	a, err := keys.Add(ctx, "a", "main")
	if err != nil {
		t.Fatal(err)
	}
	b, err := keys.Add(ctx, "b", "main")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{a, b} {
		if _, _, err := keys.Authenticate(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	other := NewKeys(db) // the CLI's 'apikey rm', beside a running serve
	if err := other.Remove(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := keys.Authenticate(ctx, a); err != nil {
		t.Fatalf("a key removed elsewhere refused before its trust ended: %v", err)
	}
	keys.trust = 0
	if _, _, err := keys.Authenticate(ctx, a); !errors.As(err, new(*WrongKeyError)) {
		t.Fatalf("a key removed elsewhere still works once its trust ended: %v", err)
	}
	keys.trust = time.Hour
	if err := keys.Remove(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := keys.Authenticate(ctx, b); !errors.As(err, new(*WrongKeyError)) {
		t.Fatalf("a key removed here still works: %v", err)
	}
}
