package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// StateScheduled is a single message held until its send_at.
const StateScheduled = "scheduled"

// NewMessage is a single message to accept: one recipient, the template it
// is rendered with, and when to send it.
type NewMessage struct {
	Account string
	// IdemKey is the caller's idempotency key; "" for none. The same key
	// with the same RequestHash is the same message.
	IdemKey     string
	RequestHash string
	// TemplateKey names the template; TemplateHash identifies TemplateBody,
	// the snapshot the message keeps.
	TemplateKey  string
	TemplateHash string
	TemplateBody string
	// TemplateKind is the body's kind ("template", "custom", "subscribe");
	// "" is template.
	TemplateKind string
	OpenID       string
	Vars         string // JSON object
	ClientMsgID  string
	SendAt       time.Time // zero: now
}

// Message is a single message as the ledger holds it.
type Message struct {
	ID           int64
	Account      string
	IdemKey      string
	RequestHash  string
	TemplateKey  string
	TemplateHash string
	OpenID       string
	Vars         string
	ClientMsgID  string
	State        string
	SendAt       time.Time // zero: sent as soon as accepted
	NotBefore    time.Time // not tried before then (send_at, a retry, a quota reset)
	Attempts     int
	Errcode      int64
	Errmsg       string
	MsgID        int64
	CreatedAt    time.Time
	FirstAttempt time.Time
	LastAttempt  time.Time
	DoneAt       time.Time
}

// Accepted is what AcceptMessages did with one NewMessage.
type Accepted struct {
	Message Message
	// Replayed: the idempotency key was known with the same request; Message
	// is the one accepted then, and nothing new was stored.
	Replayed bool
	// Conflict: the idempotency key was known with another request; Message
	// is the one accepted then, and nothing was stored.
	Conflict bool
}

// openMessage is the condition of a message still to send, written as
// the messages_open index's (migration 0011): a query uses the index only
// if it repeats the condition as the index states it.
const openMessage = `(state IN ('scheduled', 'pending') OR state = 'inflight')`

const messageColumns = `id, account, COALESCE(idem_key, ''), request_hash, template_key, template_hash, openid, vars,
	client_msg_id, state, send_at, not_before, attempts, COALESCE(errcode, 0), COALESCE(errmsg, ''), COALESCE(msgid, 0),
	created_at, first_attempt_at, last_attempt_at, done_at`

func scanMessage(row interface{ Scan(...any) error }) (Message, error) {
	var (
		m                       Message
		sendAt, notBefore, crea int64
		first, last, done       sql.NullInt64
	)
	err := row.Scan(&m.ID, &m.Account, &m.IdemKey, &m.RequestHash, &m.TemplateKey, &m.TemplateHash, &m.OpenID, &m.Vars,
		&m.ClientMsgID, &m.State, &sendAt, &notBefore, &m.Attempts, &m.Errcode, &m.Errmsg, &m.MsgID,
		&crea, &first, &last, &done)
	if err != nil {
		return Message{}, err
	}
	m.SendAt = msTime(sql.NullInt64{Int64: sendAt, Valid: true})
	m.NotBefore = msTime(sql.NullInt64{Int64: notBefore, Valid: true})
	m.CreatedAt = time.UnixMilli(crea)
	m.FirstAttempt, m.LastAttempt, m.DoneAt = msTime(first), msTime(last), msTime(done)
	return m, nil
}

// AcceptMessages stores msgs in one transaction and returns, for each in
// order, the message accepted, or the one its idempotency key names. When
// it returns without error every message is durable: a process killed
// right after loses none of them. One commit for many messages is what
// lets the service answer many clients at once (group commit).
func (d *DB) AcceptMessages(ctx context.Context, msgs []NewMessage) ([]Accepted, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("accept messages: %w", err)
	}
	defer tx.Rollback()
	stmts, err := d.txStmts(ctx, tx,
		`INSERT INTO message_templates (hash, tmpl_key, body, kind) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		`SELECT `+messageColumns+` FROM messages WHERE account = ? AND idem_key = ?`,
		`INSERT INTO messages (account, idem_key, request_hash, template_key, template_hash, openid, vars,
			client_msg_id, state, send_at, not_before, created_at) VALUES (?, NULLIF(?, ''), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT DO NOTHING`,
		`INSERT INTO message_tallies (account, state, n) VALUES (?, ?, ?)
			ON CONFLICT (account, state) DO UPDATE SET n = n + excluded.n`)
	if err != nil {
		return nil, fmt.Errorf("accept messages: %w", err)
	}
	defer closeAll(stmts)
	putTemplate, byKey, insert, tally := stmts[0], stmts[1], stmts[2], stmts[3]
	now := d.Now()
	out := make([]Accepted, len(msgs))
	kept := map[string]bool{} // templates stored by this transaction
	// The messages stored, by account and state: one statement adds them
	// to message_tallies (migration 0011), not one per message.
	type tallyKey struct{ account, state string }
	added := map[tallyKey]int64{}
	for i, n := range msgs {
		if !kept[n.TemplateHash] {
			if _, err := putTemplate.ExecContext(ctx, n.TemplateHash, n.TemplateKey, n.TemplateBody, cmp.Or(n.TemplateKind, KindTemplate)); err != nil {
				return nil, fmt.Errorf("accept messages: %w", err)
			}
			kept[n.TemplateHash] = true
		}
		m := Message{Account: n.Account, IdemKey: n.IdemKey, RequestHash: n.RequestHash, TemplateKey: n.TemplateKey,
			TemplateHash: n.TemplateHash, OpenID: n.OpenID, Vars: n.Vars, ClientMsgID: n.ClientMsgID,
			State: StatePending, CreatedAt: time.UnixMilli(now.UnixMilli())}
		if n.SendAt.After(now) {
			m.State, m.SendAt, m.NotBefore = StateScheduled, time.UnixMilli(n.SendAt.UnixMilli()), time.UnixMilli(n.SendAt.UnixMilli())
		} else if !n.SendAt.IsZero() {
			m.SendAt = time.UnixMilli(n.SendAt.UnixMilli()) // in the past: now
		}
		// The insert does nothing only for a known idempotency key: then
		// the message is the one stored with it.
		res, err := insert.ExecContext(ctx, m.Account, m.IdemKey, m.RequestHash, m.TemplateKey, m.TemplateHash, m.OpenID,
			m.Vars, m.ClientMsgID, m.State, unixMS(m.SendAt), unixMS(m.NotBefore), now.UnixMilli())
		if err != nil {
			return nil, fmt.Errorf("accept messages: %w", err)
		}
		if added, err := res.RowsAffected(); err != nil {
			return nil, fmt.Errorf("accept messages: %w", err)
		} else if added == 0 {
			known, err := scanMessage(byKey.QueryRowContext(ctx, n.Account, n.IdemKey))
			if err != nil {
				return nil, fmt.Errorf("accept messages: idempotency key %q: %w", n.IdemKey, err)
			}
			out[i] = Accepted{Message: known, Replayed: known.RequestHash == n.RequestHash, Conflict: known.RequestHash != n.RequestHash}
			continue
		}
		if m.ID, err = res.LastInsertId(); err != nil {
			return nil, fmt.Errorf("accept messages: %w", err)
		}
		out[i] = Accepted{Message: m}
		added[tallyKey{m.Account, m.State}]++
	}
	for k, n := range added {
		if _, err := tally.ExecContext(ctx, k.account, k.state, n); err != nil {
			return nil, fmt.Errorf("accept messages: tally: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("accept messages: %w", err)
	}
	return out, nil
}

// Message returns account's message id, or an error wrapping ErrNotFound:
// another account's message is not found either.
func (d *DB) Message(ctx context.Context, account string, id int64) (Message, error) {
	m, err := scanMessage(d.db.QueryRowContext(ctx, `SELECT `+messageColumns+` FROM messages WHERE id = ? AND account = ?`, id, account))
	if errors.Is(err, sql.ErrNoRows) {
		return Message{}, fmt.Errorf("message %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Message{}, fmt.Errorf("message %d: %w", id, err)
	}
	return m, nil
}

// MessageTemplate returns the template body a message was accepted with,
// and its kind.
func (d *DB) MessageTemplate(ctx context.Context, hash string) (body, kind string, err error) {
	err = d.db.QueryRowContext(ctx, `SELECT body, kind FROM message_templates WHERE hash = ?`, hash).Scan(&body, &kind)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", fmt.Errorf("message template %s: %w", hash, ErrNotFound)
	}
	if err != nil {
		return "", "", fmt.Errorf("message template %s: %w", hash, err)
	}
	return body, kind, nil
}

// DueMessages returns up to limit of account's messages still to send that
// are due at now (first the longest due), and the earliest time one that
// is not due yet will be (zero if none).
func (d *DB) DueMessages(ctx context.Context, account string, now time.Time, limit int) ([]Message, time.Time, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+messageColumns+` FROM messages
		WHERE account = ? AND `+openMessage+` AND not_before <= ?
		ORDER BY not_before, id LIMIT ?`, account, now.UnixMilli(), limit)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("due messages: %w", err)
	}
	defer rows.Close()
	var due []Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("due messages: %w", err)
		}
		due = append(due, m)
	}
	if err := rows.Err(); err != nil {
		return nil, time.Time{}, fmt.Errorf("due messages: %w", err)
	}
	var next sql.NullInt64
	err = d.db.QueryRowContext(ctx, `SELECT MIN(not_before) FROM messages
		WHERE account = ? AND `+openMessage+` AND not_before > ?`, account, now.UnixMilli()).Scan(&next)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("due messages: %w", err)
	}
	return due, msTime(next), nil
}

// BeginMessage records, durably, that an attempt to send message id begins
// at: it is inflight before its request leaves, so that after a crash the
// next process knows a request may have been delivered. attempts is how
// many the caller saw made: if another attempt began since, or the message
// ended, nothing is recorded and ok is false — the caller must not send.
func (d *DB) BeginMessage(ctx context.Context, id int64, attempts int, at time.Time) (ok bool, err error) {
	err = d.messageTx(ctx, "begin message", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE messages SET state = ?, attempts = attempts + 1,
			first_attempt_at = COALESCE(first_attempt_at, ?), last_attempt_at = ?
			WHERE id = ? AND attempts = ? AND state IN ('scheduled', 'pending', 'inflight')`,
			StateInflight, at.UnixMilli(), at.UnixMilli(), id, attempts)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n == 0 {
			return err
		}
		ok = true
		return addEvent(ctx, tx, id, at, StateInflight, 0, "")
	})
	return ok, err
}

// MessageOutcome is what happened to an attempt, or what is decided for
// the message next.
type MessageOutcome struct {
	ID    int64
	State string // sent, failed, unknown, skipped (capped): final; pending or inflight: tried again from NotBefore
	At    time.Time
	// NotBefore is when a message not final may be tried again.
	NotBefore time.Time
	Errcode   int64
	Errmsg    string
	MsgID     int64
	// Detail says why, in the trace.
	Detail string
}

// FinishMessage records o. A pending outcome clears the first attempt's
// time: what follows is a new send, which WeChat's answer proved nothing
// was delivered by; an inflight one (an answer that proved nothing) keeps
// it, so that a resend stays inside the dedup window.
func (d *DB) FinishMessage(ctx context.Context, o MessageOutcome) error {
	final := o.State == StateSent || o.State == StateFailed || o.State == StateUnknown || o.State == StateSkipped
	var done, msgid, errcode sql.NullInt64
	if final {
		done = sql.NullInt64{Int64: o.At.UnixMilli(), Valid: true}
	}
	if o.MsgID != 0 {
		msgid = sql.NullInt64{Int64: o.MsgID, Valid: true}
	}
	if o.Errcode != 0 || o.Errmsg != "" {
		errcode = sql.NullInt64{Int64: o.Errcode, Valid: true}
	}
	return d.messageTx(ctx, "finish message", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE messages SET state = ?, not_before = ?, errcode = ?, errmsg = NULLIF(?, ''),
			msgid = COALESCE(?, msgid), done_at = ?,
			first_attempt_at = CASE WHEN ? = 'pending' THEN NULL ELSE first_attempt_at END WHERE id = ?`,
			o.State, unixMS(o.NotBefore), errcode, o.Errmsg, msgid, done, o.State, o.ID)
		if err != nil {
			return err
		}
		return addEvent(ctx, tx, o.ID, o.At, o.State, o.Errcode, o.Detail)
	})
}

// MessageEvent is one step of a message's trace.
type MessageEvent struct {
	At      time.Time
	State   string
	Attempt int
	Errcode int64
	Detail  string
}

// MessageEvents returns what happened to message id after it was accepted,
// oldest first. Its acceptance is not among them: the message's own row
// says when (CreatedAt) and how (State scheduled or pending, SendAt), and
// writing it twice would cost every accept a second insert.
func (d *DB) MessageEvents(ctx context.Context, id int64) ([]MessageEvent, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT at, state, attempt, COALESCE(errcode, 0), detail
		FROM message_events WHERE message_id = ? ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("message %d events: %w", id, err)
	}
	defer rows.Close()
	var evs []MessageEvent
	for rows.Next() {
		var (
			e  MessageEvent
			at int64
		)
		if err := rows.Scan(&at, &e.State, &e.Attempt, &e.Errcode, &e.Detail); err != nil {
			return nil, fmt.Errorf("message %d events: %w", id, err)
		}
		e.At = time.UnixMilli(at)
		evs = append(evs, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("message %d events: %w", id, err)
	}
	return evs, nil
}

// addEvent appends a step to message id's trace; an inflight step carries
// the attempt's number.
func addEvent(ctx context.Context, tx *sql.Tx, id int64, at time.Time, state string, errcode int64, detail string) error {
	var code sql.NullInt64
	if errcode != 0 {
		code = sql.NullInt64{Int64: errcode, Valid: true}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO message_events (message_id, seq, at, state, attempt, errcode, detail)
		SELECT ?, COALESCE(MAX(e.seq), 0) + 1, ?, ?, m.attempts, ?, ?
		FROM messages m LEFT JOIN message_events e ON e.message_id = m.id WHERE m.id = ?`,
		id, at.UnixMilli(), state, code, detail, id)
	return err
}

func (d *DB) messageTx(ctx context.Context, what string, f func(*sql.Tx) error) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// unixMS is t in unix milliseconds; zero stays zero.
func unixMS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// txStmts returns queries, prepared once for the database, for use in tx.
func (d *DB) txStmts(ctx context.Context, tx *sql.Tx, queries ...string) ([]*sql.Stmt, error) {
	stmts := make([]*sql.Stmt, 0, len(queries))
	for _, q := range queries {
		st, err := d.prepared(ctx, q)
		if err != nil {
			closeAll(stmts)
			return nil, err
		}
		stmts = append(stmts, tx.StmtContext(ctx, st))
	}
	return stmts, nil
}

func closeAll(stmts []*sql.Stmt) {
	for _, st := range stmts {
		st.Close()
	}
}
