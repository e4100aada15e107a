package store

// Delivery receipts: what WeChat says became of a message it accepted
// (TEMPLATESENDJOBFINISH, pushed to the account's callback URL). A send
// row's msgid says WeChat accepted the message; its receipt, found by
// (account, msgid), says whether the user got it.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Receipt statuses, as the ledger, reports and metrics name them. They are
// package wechat's Outcome names (wechat.OutcomeSuccess, …), to which the
// caller maps a push's Status; receipts_wechat_test.go keeps the two
// lists equal.
const (
	ReceiptSuccess      = "success"
	ReceiptUserBlock    = "user_block"
	ReceiptSystemFailed = "system_failed"
)

// Receipt is the delivery receipt of one message.
type Receipt struct {
	Account string
	MsgID   int64
	// Status is ReceiptSuccess, ReceiptUserBlock or ReceiptSystemFailed.
	Status string
	// EventTime is the push's CreateTime, when WeChat made it; zero if the
	// push had none.
	EventTime time.Time
	// ReceivedAt is when the first push of this receipt was recorded.
	ReceivedAt time.Time
}

// RecordReceipt keeps the receipt of account's message msgid, and reports
// whether it is new. WeChat pushes a receipt again when its push was not
// answered in time (three tries in all), and so does the sandbox: a
// receipt for an (account, msgid) already recorded changes nothing, not
// even its status, and returns new false. A msgid that no send row shows
// yet is kept all the same: the push may overtake the commit of the send's
// outcome, and ReceiptCounts counts it once the row is there.
//
// It returns an error, recording nothing, for an empty account, a msgid
// that is not positive, or a status other than the three above.
func (d *DB) RecordReceipt(ctx context.Context, account string, msgid int64, status string, eventTime time.Time) (bool, error) {
	switch {
	case account == "":
		return false, errors.New("record receipt: empty account")
	case msgid <= 0:
		return false, fmt.Errorf("record receipt %s/%d: msgid is not positive", account, msgid)
	case status != ReceiptSuccess && status != ReceiptUserBlock && status != ReceiptSystemFailed:
		return false, fmt.Errorf("record receipt %s/%d: status %q is not %s, %s or %s",
			account, msgid, status, ReceiptSuccess, ReceiptUserBlock, ReceiptSystemFailed)
	}
	var at sql.NullInt64
	if !eventTime.IsZero() {
		at = sql.NullInt64{Int64: eventTime.UnixMilli(), Valid: true}
	}
	res, err := d.db.ExecContext(ctx, `INSERT INTO receipts (account, msgid, status, event_time, received_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, account, msgid, status, at, d.nowMS())
	if err != nil {
		return false, fmt.Errorf("record receipt %s/%d: %w", account, msgid, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("record receipt %s/%d: %w", account, msgid, err)
	}
	return n == 1, nil
}

// Receipt returns the receipt of account's message msgid, for a message's
// trace. It returns an error wrapping ErrNotFound if none has arrived.
func (d *DB) Receipt(ctx context.Context, account string, msgid int64) (Receipt, error) {
	r := Receipt{Account: account, MsgID: msgid}
	var at sql.NullInt64
	var received int64
	err := d.db.QueryRowContext(ctx, `SELECT status, event_time, received_at FROM receipts WHERE account = ? AND msgid = ?`,
		account, msgid).Scan(&r.Status, &at, &received)
	if errors.Is(err, sql.ErrNoRows) {
		return Receipt{}, fmt.Errorf("receipt %s/%d: %w", account, msgid, ErrNotFound)
	}
	if err != nil {
		return Receipt{}, fmt.Errorf("receipt %s/%d: %w", account, msgid, err)
	}
	r.EventTime, r.ReceivedAt = msTime(at), time.UnixMilli(received)
	return r, nil
}

// ReceiptCounts is how a batch's sent messages stand as to their delivery
// receipts.
type ReceiptCounts struct {
	Success, UserBlock, SystemFailed int64
	// Awaiting is how many sent messages (with a msgid) have no receipt
	// yet. WeChat pushes receipts only to an account whose callback URL is
	// set, so for other accounts every sent message stays awaiting.
	Awaiting int64
}

// ReceiptCounts counts the receipts of batch batchID's sent messages, in
// one statement and so from one snapshot. It walks the batch's sends rows
// (by their primary key) and looks each msgid up in receipts by theirs:
// the time grows with the batch's size, and no index on sends is needed,
// which would slow every import and every recorded outcome. A batch that
// does not exist, or sent nothing, has zero counts.
func (d *DB) ReceiptCounts(ctx context.Context, batchID int64) (ReceiptCounts, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT COALESCE(r.status, ''), COUNT(*)
		FROM batches b JOIN sends s ON s.batch_id = b.id
		LEFT JOIN receipts r ON r.account = b.account AND r.msgid = s.msgid
		WHERE b.id = ? AND s.state = 'sent' AND s.msgid IS NOT NULL
		GROUP BY 1`, batchID)
	if err != nil {
		return ReceiptCounts{}, fmt.Errorf("count receipts: %w", err)
	}
	defer rows.Close()
	var c ReceiptCounts
	for rows.Next() {
		var status string
		var n int64
		if err := rows.Scan(&status, &n); err != nil {
			return ReceiptCounts{}, fmt.Errorf("count receipts: %w", err)
		}
		switch status {
		case ReceiptSuccess:
			c.Success = n
		case ReceiptUserBlock:
			c.UserBlock = n
		case ReceiptSystemFailed:
			c.SystemFailed = n
		case "":
			c.Awaiting = n
		}
	}
	if err := rows.Err(); err != nil {
		return ReceiptCounts{}, fmt.Errorf("count receipts: %w", err)
	}
	return c, nil
}
