package store_test

// The store names receipt statuses as package wechat's Outcome does, so
// that a callback records a push's Status.Outcome() as it is. This test
// (outside package store, which imports no other megasend package) keeps
// the two lists equal.

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/wechat"
)

func TestRecordReceipt_WeChatStatuses(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "megasend.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tests := []struct {
		status wechat.ReceiptStatus
		want   string
	}{
		{wechat.ReceiptSuccess, store.ReceiptSuccess},
		{wechat.ReceiptUserBlock, store.ReceiptUserBlock},
		{wechat.ReceiptSystemFailed, store.ReceiptSystemFailed},
		{"failed:system failed", store.ReceiptSystemFailed}, // the other spelling WeChat's documents use
	}
	for i, tt := range tests {
		t.Run(string(tt.status), func(t *testing.T) {
			outcome := tt.status.Outcome()
			if outcome != tt.want {
				t.Fatalf("%q.Outcome() = %q, want the store's %q", tt.status, outcome, tt.want)
			}
			msgid := int64(i + 1)
			if _, err := db.RecordReceipt(ctx, "main", msgid, outcome, time.Unix(1395658920, 0)); err != nil {
				t.Fatal(err)
			}
			if r, err := db.Receipt(ctx, "main", msgid); err != nil || r.Status != tt.want {
				t.Errorf("Receipt() = %+v, %v, want status %q", r, err, tt.want)
			}
		})
	}
	// A status WeChat does not document has no outcome, which the store
	// refuses rather than guess.
	if _, err := db.RecordReceipt(ctx, "main", 99, wechat.ReceiptStatus("failed: unknown").Outcome(), time.Time{}); err == nil {
		t.Error("RecordReceipt() kept a receipt without an outcome")
	}
}
