-- Single messages pushed to `megasend serve` (POST /v1/messages), beside
-- the batches. A message is one recipient with its own template snapshot,
-- its own schedule and its own trace; it is sent by the account's runner
-- through the same client and limiter as the account's batches.

-- The templates messages were accepted with, by the hash of their body:
-- a message keeps the template it was accepted with (as a batch keeps its
-- snapshot), and a thousand messages of one template keep it once.
CREATE TABLE message_templates (
	hash     TEXT PRIMARY KEY,
	tmpl_key TEXT NOT NULL,
	body     TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE messages (
	id            INTEGER PRIMARY KEY,
	account       TEXT NOT NULL,
	idem_key      TEXT,                  -- the caller's idempotency key; NULL if none
	request_hash  TEXT NOT NULL,         -- what the request asked for: the same key must ask the same
	template_key  TEXT NOT NULL,
	template_hash TEXT NOT NULL REFERENCES message_templates(hash),
	openid        TEXT NOT NULL,
	vars          TEXT NOT NULL,         -- JSON object of the variables
	client_msg_id TEXT NOT NULL,         -- random, fixed at accept: a resend is recognised by WeChat
	state         TEXT NOT NULL,         -- scheduled, pending, inflight, sent, failed, unknown
	send_at       INTEGER NOT NULL DEFAULT 0, -- unix ms asked for; 0: now
	not_before    INTEGER NOT NULL DEFAULT 0, -- unix ms before which it is not tried (send_at, a retry, a quota reset)
	attempts      INTEGER NOT NULL DEFAULT 0,
	errcode       INTEGER,
	errmsg        TEXT,
	msgid         INTEGER,
	created_at    INTEGER NOT NULL,
	first_attempt_at INTEGER,            -- unix ms of the first attempt of the current send
	last_attempt_at  INTEGER,
	done_at       INTEGER
);

CREATE UNIQUE INDEX messages_idem ON messages(account, idem_key) WHERE idem_key IS NOT NULL;

-- The messages still to send, in the order they are due. Finished ones
-- leave it, so the runner's look for due work stays small.
CREATE INDEX messages_open ON messages(account, not_before, id)
	WHERE state IN ('scheduled', 'pending', 'inflight');

-- A message's trace: every state it took, when, and why.
CREATE TABLE message_events (
	message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
	seq        INTEGER NOT NULL,
	at         INTEGER NOT NULL,         -- unix ms
	state      TEXT NOT NULL,
	attempt    INTEGER NOT NULL DEFAULT 0,
	errcode    INTEGER,
	detail     TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (message_id, seq)
) WITHOUT ROWID;
