package store

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// openTemplatesDB opens a fresh database in a temporary directory with a
// clock the test moves by hand.
func openTemplatesDB(tb testing.TB) (*DB, *time.Time) {
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

func TestDB_PutTemplate(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		db, now := openTemplatesDB(t)
		body := []byte("{\n  \"touser\": \"${openid}\",\n  \"data\": {\"keyword1\": {\"value\": \"引号\\\"&<\"}}\n}")
		if err := db.PutTemplate(ctx, Template{Key: "order_paid", Title: "购买成功", Body: body}); err != nil {
			t.Fatal(err)
		}
		got, err := db.Template(ctx, "order_paid")
		if err != nil {
			t.Fatal(err)
		}
		if got.Key != "order_paid" || got.Title != "购买成功" || !bytes.Equal(got.Body, body) {
			t.Errorf("Template() = %+v, want what was put", got)
		}
		if !got.CreatedAt.Equal(*now) || !got.UpdatedAt.Equal(*now) {
			t.Errorf("times = %v, %v, want %v", got.CreatedAt, got.UpdatedAt, *now)
		}
	})
	t.Run("ReplaceKeepsCreatedAt", func(t *testing.T) {
		db, now := openTemplatesDB(t)
		created := *now
		if err := db.PutTemplate(ctx, Template{Key: "k", Title: "old", Body: []byte(`{"a":1}`)}); err != nil {
			t.Fatal(err)
		}
		*now = now.Add(time.Hour)
		if err := db.PutTemplate(ctx, Template{Key: "k", Title: "new", Body: []byte(`{"a":2}`)}); err != nil {
			t.Fatal(err)
		}
		got, err := db.Template(ctx, "k")
		if err != nil {
			t.Fatal(err)
		}
		if got.Title != "new" || string(got.Body) != `{"a":2}` {
			t.Errorf("Template() = %+v, want the new title and body", got)
		}
		if !got.CreatedAt.Equal(created) || !got.UpdatedAt.Equal(*now) {
			t.Errorf("created %v updated %v, want %v and %v", got.CreatedAt, got.UpdatedAt, created, *now)
		}
	})
	t.Run("ErrEmpty", func(t *testing.T) {
		db, _ := openTemplatesDB(t)
		if err := db.PutTemplate(ctx, Template{Body: []byte(`{}`)}); err == nil {
			t.Error("PutTemplate() with an empty key succeeded")
		}
		if err := db.PutTemplate(ctx, Template{Key: "k"}); err == nil {
			t.Error("PutTemplate() with an empty body succeeded")
		}
	})
}

func TestDB_Template(t *testing.T) {
	t.Run("ErrNotFound", func(t *testing.T) {
		db, _ := openTemplatesDB(t)
		_, err := db.Template(context.Background(), "missing")
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("Template() error = %v, want ErrNotFound", err)
		}
		if want := "get template missing: not found"; err.Error() != want {
			t.Errorf("error = %q, want %q", err, want)
		}
	})
}

func TestDB_Templates(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemplatesDB(t)
	if got, err := db.Templates(ctx); err != nil || len(got) != 0 {
		t.Fatalf("Templates() on an empty store = %v, %v", got, err)
	}
	for _, k := range []string{"shipment_update", "audit_pending", "order_paid", "Z"} {
		if err := db.PutTemplate(ctx, Template{Key: k, Body: []byte(`{"k":"` + k + `"}`)}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.Templates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, tm := range got {
		keys = append(keys, tm.Key)
		if string(tm.Body) != `{"k":"`+tm.Key+`"}` {
			t.Errorf("%s: body %s", tm.Key, tm.Body)
		}
	}
	if want := "Z audit_pending order_paid shipment_update"; strings.Join(keys, " ") != want {
		t.Errorf("Templates() keys = %s, want %s", strings.Join(keys, " "), want)
	}
}

func TestDB_DeleteTemplates(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name        string
		stored      []string
		rm          []string
		wantMissing []string
		wantLeft    []string
	}{
		{name: "One", stored: []string{"a", "b"}, rm: []string{"a"}, wantLeft: []string{"b"}},
		{name: "All", stored: []string{"a", "b"}, rm: []string{"b", "a"}},
		{name: "Twice", stored: []string{"a"}, rm: []string{"a", "a"}},
		{name: "Missing", stored: []string{"a"}, rm: []string{"x"}, wantMissing: []string{"x"}, wantLeft: []string{"a"}},
		// A typo among keys that exist removes none of them, and names
		// every key that is not there.
		{name: "SomeMissing", stored: []string{"a", "b", "c"}, rm: []string{"a", "x", "c", "y"},
			wantMissing: []string{"x", "y"}, wantLeft: []string{"a", "b", "c"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db, _ := openTemplatesDB(t)
			for _, k := range tt.stored {
				if err := db.PutTemplate(ctx, Template{Key: k, Body: []byte(`{}`)}); err != nil {
					t.Fatal(err)
				}
			}
			missing, err := db.DeleteTemplates(ctx, tt.rm)
			if (err != nil) != (tt.wantMissing != nil) || (err != nil && !errors.Is(err, ErrNotFound)) {
				t.Fatalf("DeleteTemplates() error = %v, want ErrNotFound: %v", err, tt.wantMissing != nil)
			}
			if !slices.Equal(missing, tt.wantMissing) {
				t.Errorf("missing = %v, want %v", missing, tt.wantMissing)
			}
			var left []string
			for _, k := range tt.stored {
				if _, err := db.Template(ctx, k); err == nil {
					left = append(left, k)
				}
			}
			if !slices.Equal(left, tt.wantLeft) {
				t.Errorf("left = %v, want %v", left, tt.wantLeft)
			}
		})
	}
}
