package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// SkipRest can be returned by the callback of Recipients to stop early
// without an error, as fs.SkipAll does for fs.WalkDir.
var SkipRest = errors.New("skip the remaining recipients")

// Recipients calls fn for every recipient of batch batchID whose state is
// one of states (every state if states is empty), in line order, sends in
// progress included (as inflight). It streams:
// one row is in memory at a time, whatever the size of the batch, and the
// rows come from one read snapshot, so a batch being sent meanwhile is seen
// as it was when the call began.
//
// An error from fn stops the iteration and is returned, except SkipRest,
// which stops it and returns nil. Errcode, Errmsg and MsgID are zero where
// the ledger holds NULL. fn may keep the rows it is given.
func (d *DB) Recipients(ctx context.Context, batchID int64, states []string, fn func(Recipient) error) error {
	q := `SELECT line, openid, vars, state, attempts, errcode, errmsg, msgid, client_msg_id,
		first_attempt_at, last_attempt_at, done_at, kind FROM recipients_now WHERE batch_id = ?`
	args := []any{batchID}
	if len(states) > 0 {
		q += ` AND state IN (?` + strings.Repeat(`, ?`, len(states)-1) + `)`
		for _, s := range states {
			args = append(args, s)
		}
	}
	q += ` ORDER BY line`
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("read recipients: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r := Recipient{BatchID: batchID}
		var (
			code, msgid         sql.NullInt64
			msg                 sql.NullString
			first, last, doneAt sql.NullInt64
		)
		if err := rows.Scan(&r.Line, &r.OpenID, &r.Vars, &r.State, &r.Attempts, &code, &msg, &msgid, &r.ClientMsgID,
			&first, &last, &doneAt, &r.Kind); err != nil {
			return fmt.Errorf("read recipients: %w", err)
		}
		r.Errcode, r.Errmsg, r.MsgID = int(code.Int64), msg.String, msgid.Int64
		r.FirstAttemptAt, r.LastAttemptAt, r.DoneAt = msTime(first), msTime(last), msTime(doneAt)
		if err := fn(r); err != nil {
			if errors.Is(err, SkipRest) {
				return nil
			}
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read recipients: %w", err)
	}
	return nil
}
