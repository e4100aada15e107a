package store

import (
	"testing"
	"time"
)

// Migration 0012: templates and batches keep their kind (template when not
// said), a batch its fallback, and recipients_now shows each row's kind.
func TestDB_Kinds(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	for _, tt := range []Template{{Key: "plain", Body: []byte(`{}`)}, {Key: "text", Kind: KindCustom, Body: []byte(`{}`)}} {
		if err := db.PutTemplate(ctx, tt); err != nil {
			t.Fatal(err)
		}
	}
	for key, want := range map[string]string{"plain": KindTemplate, "text": KindCustom} {
		got, err := db.Template(ctx, key)
		if err != nil || got.Kind != want {
			t.Errorf("Template(%s) kind %q, %v; want %q", key, got.Kind, err, want)
		}
	}
	b, err := db.CreateBatch(ctx, NewBatch{Name: "c", TemplateKind: KindCustom, FallbackRef: "fb", FallbackBody: []byte(`{"x":1}`)}, "1@h")
	if err != nil {
		t.Fatal(err)
	}
	if b.TemplateKind != KindCustom || b.FallbackRef != "fb" || string(b.FallbackBody) != `{"x":1}` {
		t.Errorf("batch %+v", b)
	}
	plain, err := db.CreateBatch(ctx, NewBatch{Name: "p"}, "1@h")
	if err != nil || plain.TemplateKind != KindTemplate || plain.FallbackBody != nil {
		t.Errorf("batch without a kind: %q, fallback %q, %v", plain.TemplateKind, plain.FallbackBody, err)
	}
}

// A recipient moved to its fallback is pending again with the fallback's
// kind, durably, and keeps it through its fallback's send. After a crash
// only rows of the kind WeChat deduplicates are resent: a customer-service
// message left inflight becomes unknown however recent, its fallback is
// resent inside the window.
func TestLedger_Fallback(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	b, im := newImport(t, db)
	for i := range 4 {
		if err := im.Add(ctx, int64(i+2), "o"+string(rune('a'+i)), `{}`); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := im.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.db.Exec(`UPDATE batches SET template_kind = 'custom' WHERE id = ?`, b.ID); err != nil {
		t.Fatal(err)
	}
	now := time.UnixMilli(time.Now().UnixMilli())
	l := db.OpenLedger(ctx, b.ID, "1@h")
	for line := int64(2); line <= 5; line++ {
		if err := l.Begin(ctx, line, now); err != nil {
			t.Fatal(err)
		}
	}
	// Lines 2 and 3 move to the fallback; 3's fallback begins, 2's is sent.
	for _, line := range []int64{2, 3} {
		if err := l.Fallback(ctx, line, KindTemplate, 45015, "out of time"); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Begin(ctx, 3, now); err != nil {
		t.Fatal(err)
	}
	if err := l.Begin(ctx, 2, now); err != nil {
		t.Fatal(err)
	}
	l.Finish(Outcome{Line: 2, State: StateSent, MsgID: 7, At: now})
	l.Finish(Outcome{Line: 4, State: StateSent, At: now})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	kinds := map[int64]string{}
	states := map[int64]string{}
	if err := db.Recipients(ctx, b.ID, nil, func(r Recipient) error {
		kinds[r.Line], states[r.Line] = r.Kind, r.State
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	wantKinds := map[int64]string{2: KindTemplate, 3: KindTemplate, 4: KindCustom, 5: KindCustom}
	wantStates := map[int64]string{2: StateSent, 3: StateInflight, 4: StateSent, 5: StateInflight}
	for line := int64(2); line <= 5; line++ {
		if kinds[line] != wantKinds[line] || states[line] != wantStates[line] {
			t.Errorf("line %d: %s %s; want %s %s", line, kinds[line], states[line], wantKinds[line], wantStates[line])
		}
	}
	resend, unknown, err := db.RecoverInflight(ctx, b.ID, now.Add(-time.Minute))
	if err != nil || resend != 1 || unknown != 1 {
		t.Fatalf("RecoverInflight = %d resend, %d unknown, %v; want 1 (the fallback) and 1 (the custom message)", resend, unknown, err)
	}
	rows, err := db.Pending(ctx, b.ID, 0, 10)
	if err != nil || len(rows) != 1 || rows[0].Line != 3 || rows[0].Kind != KindTemplate {
		t.Errorf("Pending = %+v, %v; want line 3 of kind template", rows, err)
	}
	groups, err := db.FailureGroups(ctx, b.ID)
	if err != nil || len(groups) != 1 || groups[0].Kind != KindCustom || groups[0].State != StateUnknown {
		t.Errorf("FailureGroups = %+v, %v; want line 5 unknown, custom", groups, err)
	}
}
