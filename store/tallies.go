package store

// Tallies over the whole ledger, by account, for serve's /metrics: read at
// each scrape, so each is one statement (or one read transaction) that
// walks indexes and per-batch summaries, not the recipients themselves.

import (
	"context"
	"database/sql"
	"fmt"
)

// Sources of messages, as StateCount.Source names them.
const (
	// SourceBatch is a batch's recipient (CLI or POST /v1/batches).
	SourceBatch = "batch"
	// SourceMessage is a single message (POST /v1/messages).
	SourceMessage = "message"
)

// The kinds of message, as templates, batches and sends rows name them:
// message/template/send (the default), custom/send and subscribe/bizsend.
const (
	KindTemplate  = "template"
	KindCustom    = "custom"
	KindSubscribe = "subscribe"
)

// StateCount is how many of an account's messages, of one source and kind,
// are in one state.
type StateCount struct {
	Account string
	// Source is where the messages came from: SourceBatch or SourceMessage.
	Source string
	// Kind is the message kind: a batch's template's (KindTemplate,
	// KindCustom, KindSubscribe). Single messages count under KindTemplate
	// whatever their template's kind: message_tallies keeps none.
	Kind string
	// State is a recipient state: StatePending, StateInflight, StateSent,
	// StateFailed, StateUnknown or StateSkipped; a single message may also
	// be StateScheduled.
	State string
	N     int64
}

// StateCounts returns the number of messages in each state, by account,
// source and kind, from one snapshot of the ledger. A state with no
// messages is absent. It costs what CountsByBatch costs, plus a read of
// the batches table: the sends rows in the state index (every state but
// sent), the rows past each batch's frontier, and a count of the rows of
// a batch still importing.
func (d *DB) StateCounts(ctx context.Context) ([]StateCount, error) {
	// A read transaction: the counts and the batches' accounts from one
	// snapshot, even while a batch is created or sent. It takes no write
	// lock.
	tx, err := d.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("state counts: %w", err)
	}
	defer tx.Rollback()
	byBatch, err := counts(ctx, tx, fmt.Sprintf(sqlCounts, "", ""))
	if err != nil {
		return nil, err
	}
	// A batch's recipients count under its template's kind, those moved to
	// a fallback included: a gauge of the batches' queues, not of endpoints.
	rows, err := tx.QueryContext(ctx, `SELECT id, account, template_kind FROM batches`)
	if err != nil {
		return nil, fmt.Errorf("state counts: %w", err)
	}
	defer rows.Close()
	type group struct{ account, kind string }
	byAccount := map[group]*Counts{}
	var accounts []group
	for rows.Next() {
		var (
			id int64
			g  group
		)
		if err := rows.Scan(&id, &g.account, &g.kind); err != nil {
			return nil, fmt.Errorf("state counts: %w", err)
		}
		c, ok := byBatch[id]
		if !ok {
			continue // no recipients (yet)
		}
		sum := byAccount[g]
		if sum == nil {
			sum = &Counts{}
			byAccount[g] = sum
			accounts = append(accounts, g)
		}
		sum.Pending += c.Pending
		sum.Inflight += c.Inflight
		sum.Sent += c.Sent
		sum.Failed += c.Failed
		sum.Unknown += c.Unknown
		sum.Skipped += c.Skipped
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("state counts: %w", err)
	}
	var out []StateCount
	for _, g := range accounts {
		c := byAccount[g]
		for _, s := range []struct {
			state string
			n     int64
		}{
			{StatePending, c.Pending}, {StateInflight, c.Inflight}, {StateSent, c.Sent},
			{StateFailed, c.Failed}, {StateUnknown, c.Unknown}, {StateSkipped, c.Skipped},
		} {
			if s.n != 0 {
				out = append(out, StateCount{Account: g.account, Source: SourceBatch, Kind: g.kind, State: s.state, N: s.n})
			}
		}
	}
	// The single messages, from their tallies (migration 0009).
	mrows, err := tx.QueryContext(ctx, `SELECT account, state, n FROM message_tallies WHERE n <> 0 ORDER BY account, state`)
	if err != nil {
		return nil, fmt.Errorf("state counts: %w", err)
	}
	defer mrows.Close()
	for mrows.Next() {
		c := StateCount{Source: SourceMessage, Kind: KindTemplate}
		if err := mrows.Scan(&c.Account, &c.State, &c.N); err != nil {
			return nil, fmt.Errorf("state counts: %w", err)
		}
		out = append(out, c)
	}
	if err := mrows.Err(); err != nil {
		return nil, fmt.Errorf("state counts: %w", err)
	}
	return out, nil
}

// QueueDepths returns, by account, how many recipients the service has yet
// to send: those pending or inflight in the batches it runs that are not
// held for a person (paused by request, a batch-fatal errcode), whether
// due now or later (a send_at, the quota's reset), and its single messages
// not sent yet. An account with no
// such batch is absent. One statement; per batch, it counts the sends rows
// past the frontier and its open rows in the state index, as Remaining
// does.
func (d *DB) QueueDepths(ctx context.Context) (map[string]int64, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT b.account, SUM(b.total - b.frontier_rows
		- (SELECT COUNT(*) FROM sends s WHERE s.batch_id = b.id AND s.line > b.frontier)
		+ (SELECT COUNT(*) FROM sends INDEXED BY sends_open
			WHERE batch_id = b.id AND state <> 'sent' AND state IN ('pending', 'inflight')))
		FROM service_batches sb JOIN batches b ON b.id = sb.batch_id
		WHERE sb.hold = '' AND b.status IN (?, ?, ?)
		GROUP BY b.account`, StatusReady, StatusRunning, StatusPaused)
	if err != nil {
		return nil, fmt.Errorf("queue depths: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var (
			account string
			n       int64
		)
		if err := rows.Scan(&account, &n); err != nil {
			return nil, fmt.Errorf("queue depths: %w", err)
		}
		out[account] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("queue depths: %w", err)
	}
	// The single messages not sent yet, scheduled ones included.
	mrows, err := d.db.QueryContext(ctx, `SELECT account, SUM(n) FROM message_tallies
		WHERE state IN ('scheduled', 'pending', 'inflight') GROUP BY account HAVING SUM(n) > 0`)
	if err != nil {
		return nil, fmt.Errorf("queue depths: %w", err)
	}
	defer mrows.Close()
	for mrows.Next() {
		var (
			account string
			n       int64
		)
		if err := mrows.Scan(&account, &n); err != nil {
			return nil, fmt.Errorf("queue depths: %w", err)
		}
		out[account] += n
	}
	if err := mrows.Err(); err != nil {
		return nil, fmt.Errorf("queue depths: %w", err)
	}
	return out, nil
}

// ReceiptTotal is how many delivery receipts of one status an account's
// messages have received.
type ReceiptTotal struct {
	Account string
	// Status is ReceiptSuccess, ReceiptUserBlock or ReceiptSystemFailed.
	Status string
	N      int64
}

// ReceiptTotals returns the receipts recorded, by account and status, as
// the table receipt_tallies keeps them (migration 0008): a few rows,
// however many receipts the ledger holds. A status with none is absent.
func (d *DB) ReceiptTotals(ctx context.Context) ([]ReceiptTotal, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT account, status, n FROM receipt_tallies WHERE n <> 0 ORDER BY account, status`)
	if err != nil {
		return nil, fmt.Errorf("receipt totals: %w", err)
	}
	defer rows.Close()
	var out []ReceiptTotal
	for rows.Next() {
		var t ReceiptTotal
		if err := rows.Scan(&t.Account, &t.Status, &t.N); err != nil {
			return nil, fmt.Errorf("receipt totals: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("receipt totals: %w", err)
	}
	return out, nil
}
