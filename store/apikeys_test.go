package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// openServiceDB opens a fresh database in a temporary directory with a
// clock the test moves by hand.
func openServiceDB(tb testing.TB) (*DB, *time.Time) {
	tb.Helper()
	db, err := Open(context.Background(), filepath.Join(tb.TempDir(), "megasend.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	now := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	return db, &now
}

// sameKey compares API keys, their times by the instant.
func sameKey(a, b APIKey) bool {
	return a.Name == b.Name && a.Account == b.Account && a.CreatedAt.Equal(b.CreatedAt) && a.LastUsedAt.Equal(b.LastUsedAt)
}

// testHash stands for package apikey's hash of key.
func testHash(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

func TestDB_AddAPIKey(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		db, now := openServiceDB(t)
		if err := db.AddAPIKey(ctx, "crm", "main", testHash("k1")); err != nil {
			t.Fatal(err)
		}
		keys, err := db.APIKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []APIKey{{Name: "crm", Account: "main", CreatedAt: *now}}
		if len(keys) != 1 || !sameKey(keys[0], want[0]) {
			t.Errorf("APIKeys() = %+v, want %+v", keys, want)
		}
	})
	t.Run("ErrExists", func(t *testing.T) {
		db, _ := openServiceDB(t)
		if err := db.AddAPIKey(ctx, "crm", "main", testHash("k1")); err != nil {
			t.Fatal(err)
		}
		err := db.AddAPIKey(ctx, "crm", "other", testHash("k2"))
		if !errors.Is(err, ErrExists) {
			t.Fatalf("AddAPIKey() with a taken name = %v, want ErrExists", err)
		}
		k, err := db.APIKeyByHash(ctx, testHash("k1"))
		if err != nil || k.Account != "main" {
			t.Errorf("the first key is now %+v, %v; want it unchanged", k, err)
		}
		if _, err := db.APIKeyByHash(ctx, testHash("k2")); !errors.Is(err, ErrNotFound) {
			t.Errorf("the refused key authenticates: %v", err)
		}
	})
	t.Run("ErrSameHash", func(t *testing.T) {
		db, _ := openServiceDB(t)
		if err := db.AddAPIKey(ctx, "a", "main", testHash("k1")); err != nil {
			t.Fatal(err)
		}
		if err := db.AddAPIKey(ctx, "b", "main", testHash("k1")); err == nil {
			t.Error("AddAPIKey() stored a second key with the same hash")
		}
	})
	tests := []struct {
		name, key, account string
		hash               []byte
	}{
		{name: "ErrEmptyName", account: "main", hash: testHash("k")},
		{name: "ErrEmptyAccount", key: "crm", hash: testHash("k")},
		{name: "ErrEmptyHash", key: "crm", account: "main"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, _ := openServiceDB(t)
			if err := db.AddAPIKey(ctx, tt.key, tt.account, tt.hash); err == nil {
				t.Fatal("AddAPIKey() succeeded")
			}
			if keys, err := db.APIKeys(ctx); err != nil || len(keys) != 0 {
				t.Errorf("APIKeys() = %+v, %v after a refused add, want none", keys, err)
			}
		})
	}
}

func TestDB_APIKeys(t *testing.T) {
	ctx := context.Background()
	db, now := openServiceDB(t)
	if keys, err := db.APIKeys(ctx); err != nil || len(keys) != 0 {
		t.Fatalf("APIKeys() of a new database = %+v, %v", keys, err)
	}
	created := *now
	for _, name := range []string{"web", "crm", "batch-jobs"} {
		if err := db.AddAPIKey(ctx, name, "main", testHash(name)); err != nil {
			t.Fatal(err)
		}
	}
	*now = now.Add(5 * time.Minute)
	if _, err := db.APIKeyByHash(ctx, testHash("crm")); err != nil {
		t.Fatal(err)
	}
	keys, err := db.APIKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []APIKey{
		{Name: "batch-jobs", Account: "main", CreatedAt: created},
		{Name: "crm", Account: "main", CreatedAt: created, LastUsedAt: *now},
		{Name: "web", Account: "main", CreatedAt: created},
	}
	if len(keys) != len(want) {
		t.Fatalf("APIKeys() = %+v, want %+v", keys, want)
	}
	for i := range want {
		if !sameKey(keys[i], want[i]) {
			t.Errorf("APIKeys()[%d] = %+v, want %+v", i, keys[i], want[i])
		}
	}
}

func TestDB_RemoveAPIKey(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		db, _ := openServiceDB(t)
		for _, name := range []string{"a", "b"} {
			if err := db.AddAPIKey(ctx, name, "main", testHash(name)); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.RemoveAPIKey(ctx, "a"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.APIKeyByHash(ctx, testHash("a")); !errors.Is(err, ErrNotFound) {
			t.Errorf("a removed key still authenticates: %v", err)
		}
		if keys, err := db.APIKeys(ctx); err != nil || len(keys) != 1 || keys[0].Name != "b" {
			t.Errorf("APIKeys() = %+v, %v, want b alone", keys, err)
		}
		// Its name may be given to a new key.
		if err := db.AddAPIKey(ctx, "a", "main", testHash("a2")); err != nil {
			t.Error(err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		db, _ := openServiceDB(t)
		if err := db.AddAPIKey(ctx, "a", "main", testHash("a")); err != nil {
			t.Fatal(err)
		}
		if err := db.RemoveAPIKey(ctx, "b"); !errors.Is(err, ErrNotFound) {
			t.Errorf("RemoveAPIKey(missing) = %v, want ErrNotFound", err)
		}
		if keys, _ := db.APIKeys(ctx); len(keys) != 1 {
			t.Errorf("APIKeys() = %+v, want a kept", keys)
		}
	})
}

func TestDB_APIKeyByHash(t *testing.T) {
	ctx := context.Background()
	t.Run("ErrNotFound", func(t *testing.T) {
		db, _ := openServiceDB(t)
		if err := db.AddAPIKey(ctx, "a", "main", testHash("a")); err != nil {
			t.Fatal(err)
		}
		for _, h := range [][]byte{testHash("b"), nil, testHash("a")[:31]} {
			if k, err := db.APIKeyByHash(ctx, h); !errors.Is(err, ErrNotFound) {
				t.Errorf("APIKeyByHash(%x) = %+v, %v, want ErrNotFound", h, k, err)
			}
		}
	})

	// last_used_at follows the uses to within a minute, and is written only
	// when it is a minute old or more: the steps are minutes after the key
	// was added, the stored value what the database holds after each use.
	db, now := openServiceDB(t)
	added := *now
	if err := db.AddAPIKey(ctx, "crm", "main", testHash("crm")); err != nil {
		t.Fatal(err)
	}
	stored := func() int64 {
		var ms *int64
		if err := db.db.QueryRow(`SELECT last_used_at FROM api_keys WHERE name = 'crm'`).Scan(&ms); err != nil {
			t.Fatal(err)
		}
		if ms == nil {
			return -1
		}
		return *ms
	}
	at := func(sec float64) int64 { return added.Add(time.Duration(sec * float64(time.Second))).UnixMilli() }
	steps := []struct {
		name   string
		sec    float64 // when the key is used, after it was added
		stored int64   // last_used_at afterwards
	}{
		{name: "FirstUse", sec: 10, stored: at(10)},
		{name: "SecondsLater", sec: 40, stored: at(10)},
		{name: "JustUnderAMinute", sec: 69.999, stored: at(10)},
		{name: "AMinuteLater", sec: 70, stored: at(70)},
		{name: "AnHourLater", sec: 3670, stored: at(3670)},
		{name: "ClockStepsBack", sec: 3600, stored: at(3670)},
	}
	if got := stored(); got != -1 {
		t.Fatalf("a new key has last_used_at %d, want NULL", got)
	}
	for _, s := range steps {
		*now = added.Add(time.Duration(s.sec * float64(time.Second)))
		k, err := db.APIKeyByHash(ctx, testHash("crm"))
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if k.Name != "crm" || k.Account != "main" || !k.CreatedAt.Equal(added) {
			t.Errorf("%s: APIKeyByHash() = %+v", s.name, k)
		}
		if got := stored(); got != s.stored {
			t.Errorf("%s: last_used_at %d, want %d", s.name, got, s.stored)
		}
		if got := k.LastUsedAt.UnixMilli(); got != s.stored {
			t.Errorf("%s: LastUsedAt %d, want %d", s.name, got, s.stored)
		}
	}
}
