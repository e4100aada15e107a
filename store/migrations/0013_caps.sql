-- Frequency caps (issue 18): "at most N messages to one person within a
-- duration", decided just before each send from what the ledger holds.

-- The cap a batch was given: "N/DURATION" (policy.Cap), "off" for a batch
-- that asked for none whatever its account's configuration says, or ''
-- (the account's).
ALTER TABLE batch_policies ADD COLUMN cap TEXT NOT NULL DEFAULT '';

-- Who a send reached, kept on the sends row with its outcome, so that the
-- messages a person was sent (or may have been: unknown) can be found by
-- openid. An index on recipients(openid) made every import about 8 times
-- slower, and recipients has no state to leave pending rows out; this one
-- is partial: only rows delivered, or perhaps delivered, are in it, so
-- the import writes nothing more (BenchmarkImport unchanged) and marking a
-- send inflight neither. Recording a delivery adds one entry, at a random
-- place in the index as openids come in no order: a page written to the
-- WAL per delivery. BenchmarkLedger_GroupCommit with random openids fell
-- from about 107,000 to 18,000 messages a second at 64 goroutines (about
-- 45 us more writer time per delivery), and by about a third at one;
-- WeChat's own pace for an account is a small fraction of either.
ALTER TABLE sends ADD COLUMN openid TEXT;
UPDATE sends SET openid = (SELECT r.openid FROM recipients r WHERE r.batch_id = sends.batch_id AND r.line = sends.line)
	WHERE state IN ('sent', 'unknown');
CREATE INDEX sends_delivered ON sends(openid, done_at) WHERE state IN ('sent', 'unknown');

-- The same for serve's single messages, whose rows hold their openid and
-- account: accepted messages are pending, outside the index.
CREATE INDEX messages_delivered ON messages(account, openid, done_at) WHERE state IN ('sent', 'unknown');
