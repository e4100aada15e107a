-- Templates, modelled on Mega-Wechat's mega_wechat_template table.
CREATE TABLE templates (
	tmpl_key   TEXT PRIMARY KEY,
	title      TEXT NOT NULL DEFAULT '',
	body       TEXT NOT NULL,            -- the template JSON, byte for byte as given
	created_at INTEGER NOT NULL,         -- unix milliseconds, UTC
	updated_at INTEGER NOT NULL
);

-- A batch is one campaign: one template snapshot sent to one recipient file.
CREATE TABLE batches (
	id            INTEGER PRIMARY KEY,
	name          TEXT NOT NULL UNIQUE,
	nonce         TEXT NOT NULL,         -- random; prefixes every client_msg_id of the batch
	template_ref  TEXT NOT NULL,         -- the key or path the user gave
	template_body TEXT NOT NULL,         -- snapshot sent for the whole batch
	template_hash TEXT NOT NULL,
	source_path   TEXT NOT NULL,
	source_hash   TEXT NOT NULL,         -- sha256 of the recipient file's bytes
	account       TEXT NOT NULL DEFAULT '',
	status        TEXT NOT NULL,         -- importing, ready, running, paused, done
	pause_reason  TEXT NOT NULL DEFAULT '',
	total         INTEGER NOT NULL DEFAULT 0,
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL,
	finished_at   INTEGER,
	-- The batch lock: which process is working on it, and its last heartbeat.
	lock_owner    TEXT NOT NULL DEFAULT '',  -- "pid@host"
	lock_since    INTEGER,
	lock_beat     INTEGER
);

-- One row per input line. Its state follows the lifecycle in PRODUCT.md:
-- pending -> inflight -> sent | failed | unknown, and skipped.
CREATE TABLE recipients (
	batch_id         INTEGER NOT NULL REFERENCES batches(id),
	line             INTEGER NOT NULL,   -- line (CSV record start) in the source file
	openid           TEXT NOT NULL,
	vars             TEXT NOT NULL,      -- JSON object of the row's variables
	state            TEXT NOT NULL,
	attempts         INTEGER NOT NULL DEFAULT 0,
	errcode          INTEGER,
	errmsg           TEXT,
	msgid            INTEGER,
	client_msg_id    TEXT NOT NULL,
	first_attempt_at INTEGER,            -- unix ms of the first attempt of the current send
	last_attempt_at  INTEGER,
	done_at          INTEGER,
	PRIMARY KEY (batch_id, line)
) WITHOUT ROWID;

CREATE INDEX recipients_by_state ON recipients(batch_id, state, line);

-- Shared access-token cache, sealed with a key derived from the account's
-- credentials so the token itself never sits readable in the database.
CREATE TABLE tokens (
	cache_key  TEXT PRIMARY KEY,
	sealed     BLOB NOT NULL,
	expires_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);
