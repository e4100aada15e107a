-- The batches `megasend serve` runs by itself, and what it waits for before
-- running each: a time (a send_at, a daily quota's reset, WeChat out of
-- reach for a while) or a person (hold says why: paused by request, a
-- batch-fatal errcode to fix). A batch the CLI created is not here unless
-- the service was asked to resume it: the service never sends what nobody
-- gave it.
CREATE TABLE service_batches (
	batch_id   INTEGER PRIMARY KEY REFERENCES batches(id) ON DELETE CASCADE,
	not_before INTEGER NOT NULL DEFAULT 0, -- unix ms
	hold       TEXT    NOT NULL DEFAULT ''
);
