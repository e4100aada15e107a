package campaign

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/template"
)

// testHost is the host every owner in these tests names: a lock held by a
// pid on it is alive exactly when that pid exists here.
const testHost = "test-host"

// t0 is when a fixture's clock starts.
var t0 = time.UnixMilli(1_700_000_000_000)

// ledgerFixture is a ledger in a temporary directory, the lifecycle over
// it, and the ledger's clock, which the test moves: for the tests of what
// the ledger tells (report, export) and of removing batches.
type ledgerFixture struct {
	t   testing.TB
	dir string
	db  *store.DB
	svc *Service
	now time.Time
}

func newLedgerFixture(t testing.TB) *ledgerFixture {
	t.Helper()
	f := &ledgerFixture{t: t, dir: t.TempDir(), now: t0}
	db, err := store.Open(t.Context(), filepath.Join(f.dir, "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.Now = func() time.Time { return f.now }
	f.db = db
	f.svc = New(db, store.Owner(os.Getpid(), testHost), nil)
	return f
}

// noticeTemplate is what every ledger fixture's batch sends: it needs the
// variable name.
func noticeTemplate(t testing.TB) *template.Template {
	t.Helper()
	tm, err := template.Parse("notice", "", []byte(`{"touser":"${openid}","template_id":"TID-notice",`+
		`"data":{"keyword1":{"value":"${name}"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// csvUsers is a CSV of n recipients, line i+2 holding openid(i) and the
// name "n<i>".
func csvUsers(n int) string {
	var b strings.Builder
	b.WriteString("openid,name\n")
	for i := range n {
		fmt.Fprintf(&b, "%s,n%d\n", openid(i), i)
	}
	return b.String()
}

// create makes batch name from users (a recipient file's content, CSV or,
// with a .jsonl file name, JSONL) through Create, as campaign does, and
// gives its lock up again.
func (f *ledgerFixture) create(name, file, users string) store.Batch {
	f.t.Helper()
	path := filepath.Join(f.dir, file)
	if err := os.WriteFile(path, []byte(users), 0o600); err != nil {
		f.t.Fatal(err)
	}
	src, err := FileSource(path)
	if err != nil {
		f.t.Fatal(err)
	}
	b, _, err := f.svc.Create(f.t.Context(), Spec{Name: name, Template: noticeTemplate(f.t), TemplateRef: "notice", Source: src, Account: "default"})
	if err != nil {
		f.t.Fatalf("create %s: %v", name, err)
	}
	if err := f.svc.Release(f.t.Context(), b); err != nil {
		f.t.Fatal(err)
	}
	return b.Batch
}

// send writes outcomes to batch b's ledger as the engine does: each line
// is begun (inflight) at its At, then finished, unless its state is
// inflight. It holds b's lock meanwhile.
func (f *ledgerFixture) send(b store.Batch, outcomes ...store.Outcome) {
	f.t.Helper()
	ctx := f.t.Context()
	if err := f.svc.lock(ctx, b); err != nil {
		f.t.Fatal(err)
	}
	l := f.db.OpenLedger(ctx, b.ID, f.svc.owner)
	for _, o := range outcomes {
		if err := l.Begin(ctx, o.Line, o.At); err != nil {
			f.t.Fatal(err)
		}
		if o.State != store.StateInflight {
			l.Finish(o)
		}
	}
	if err := l.Close(); err != nil {
		f.t.Fatal(err)
	}
	if err := f.db.Unlock(ctx, b.ID, f.svc.owner); err != nil {
		f.t.Fatal(err)
	}
}

// sent is a sent outcome of line at at.
func sent(line int64, at time.Time) store.Outcome {
	return store.Outcome{Line: line, State: store.StateSent, MsgID: 3557254367693782077 + line, At: at}
}

// failed is an outcome of line in state with errcode code at at.
func failed(line int64, state string, code int, msg string, at time.Time) store.Outcome {
	return store.Outcome{Line: line, State: state, Errcode: code, Errmsg: msg, At: at}
}

// setStatus records batch b's status as a run settles it.
func (f *ledgerFixture) setStatus(b store.Batch, status, reason string) {
	f.t.Helper()
	if err := f.db.SetStatus(f.t.Context(), b.ID, status, reason); err != nil {
		f.t.Fatal(err)
	}
}

// holdBy gives batch b's lock to owner, as if that process were sending
// it, with its row saying running.
func (f *ledgerFixture) holdBy(b store.Batch, owner string) {
	f.t.Helper()
	f.setStatus(b, store.StatusRunning, "")
	if err := f.db.Lock(f.t.Context(), b.ID, owner); err != nil {
		f.t.Fatal(err)
	}
}

// deadOwner is a process that is gone; liveOwner one that is not (the
// test's parent).
var (
	deadOwner = store.Owner(99999999, testHost)
	liveOwner = store.Owner(os.Getppid(), testHost)
)

// damage makes batch b's counts disagree with its rows: the ledger says
// three more recipients were tried than its rows hold.
func (f *ledgerFixture) damage(b store.Batch) {
	f.t.Helper()
	if _, err := f.db.SQL().Exec(`UPDATE batches SET frontier_rows = frontier_rows + 3 WHERE id = ?`, b.ID); err != nil {
		f.t.Fatal(err)
	}
}
