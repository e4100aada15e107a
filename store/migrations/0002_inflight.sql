-- Sends in progress. The ledger marks a recipient inflight, durably, before
-- its request leaves; doing that with an UPDATE of the wide recipients row
-- (and its index entry) cost as much as recording the outcome. A row here is
-- a small insert at the end of a narrow table instead, and it is deleted in
-- the transaction that writes the outcome into recipients, so a recipient's
-- row is rewritten once per send. Rows still here when the sending process
-- stops (cleanly or not) are folded into recipients as state 'inflight' by
-- the ledger's last commit or by the next resume, before the resume rule
-- reads them.
CREATE TABLE inflight (
	batch_id INTEGER NOT NULL,
	line     INTEGER NOT NULL,
	attempts INTEGER NOT NULL,           -- attempts begun since the row was last written to recipients
	first_at INTEGER NOT NULL,           -- unix ms of the first of them
	last_at  INTEGER NOT NULL,
	PRIMARY KEY (batch_id, line)
) WITHOUT ROWID;

-- Sent rows, nearly all of them, leave the state index: recording a success
-- deletes one index entry instead of moving it. Queries that need the index
-- say "state <> 'sent'" so that SQLite may use it; the number sent is the
-- batch's total minus the rest.
DROP INDEX recipients_by_state;
CREATE INDEX recipients_unsent ON recipients(batch_id, state, line) WHERE state <> 'sent';

-- Recipients as they stand, sends in progress included: what reports and
-- other programs read.
CREATE VIEW recipients_now AS
SELECT r.batch_id, r.line, r.openid, r.vars,
	CASE WHEN i.line IS NULL THEN r.state ELSE 'inflight' END AS state,
	r.attempts + COALESCE(i.attempts, 0) AS attempts,
	r.errcode, r.errmsg, r.msgid, r.client_msg_id,
	COALESCE(r.first_attempt_at, i.first_at) AS first_attempt_at,
	COALESCE(i.last_at, r.last_attempt_at) AS last_attempt_at,
	r.done_at
FROM recipients r LEFT JOIN inflight i ON i.batch_id = r.batch_id AND i.line = r.line;
