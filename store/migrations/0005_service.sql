-- What `megasend serve` keeps beside the ledger (issue 17).

-- API keys. Only a hash of each key is stored: whoever reads the database
-- file (a backup, a copy sent with a bug report) must not be able to call
-- the API. A key is bound to one account, by the name the configuration
-- gives it. last_used_at is written at most once a minute (store/apikeys.go).
CREATE TABLE api_keys (
	name         TEXT PRIMARY KEY,
	account      TEXT NOT NULL,
	key_hash     BLOB NOT NULL UNIQUE,   -- sha256 of the key (package apikey)
	created_at   INTEGER NOT NULL,       -- unix milliseconds, as every time here
	last_used_at INTEGER                 -- NULL: never used
);

-- WeChat's delivery receipts (TEMPLATESENDJOBFINISH), one per message: an
-- account's msgids are unique, and WeChat retries a push up to three times,
-- so the first receipt for a msgid is kept and its repeats change nothing.
-- A receipt is kept even when no sends row shows its msgid yet: it may
-- arrive before the send's outcome is committed. Reports find a batch's
-- receipts by walking its sends rows and looking each msgid up here, by
-- this table's key: the sends table gets no index on msgid, which would
-- slow every import and every recorded outcome.
CREATE TABLE receipts (
	account     TEXT NOT NULL,
	msgid       INTEGER NOT NULL,
	status      TEXT NOT NULL CHECK (status IN ('success', 'user_block', 'system_failed')),
	event_time  INTEGER,                 -- the push's CreateTime; NULL if it had none
	received_at INTEGER NOT NULL,
	PRIMARY KEY (account, msgid)
) WITHOUT ROWID;
