-- How many single messages each account has in each state, kept by
-- triggers on messages as receipt_tallies is (0008): a scrape of /metrics
-- reads a few rows instead of every message ever accepted. Open states
-- could be counted from messages_open, but sent, failed and unknown only
-- grow.
CREATE TABLE message_tallies (
	account TEXT NOT NULL,
	state   TEXT NOT NULL,
	n       INTEGER NOT NULL,
	PRIMARY KEY (account, state)
) WITHOUT ROWID;

INSERT INTO message_tallies (account, state, n)
SELECT account, state, COUNT(*) FROM messages GROUP BY account, state;

CREATE TRIGGER messages_tally_insert AFTER INSERT ON messages BEGIN
	INSERT INTO message_tallies (account, state, n) VALUES (new.account, new.state, 1)
		ON CONFLICT (account, state) DO UPDATE SET n = n + 1;
END;

-- A retry leaves a message inflight or pending as it was: only a change of
-- state moves the tallies.
CREATE TRIGGER messages_tally_update AFTER UPDATE OF account, state ON messages
	WHEN old.state <> new.state OR old.account <> new.account BEGIN
	UPDATE message_tallies SET n = n - 1 WHERE account = old.account AND state = old.state;
	INSERT INTO message_tallies (account, state, n) VALUES (new.account, new.state, 1)
		ON CONFLICT (account, state) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER messages_tally_delete AFTER DELETE ON messages BEGIN
	UPDATE message_tallies SET n = n - 1 WHERE account = old.account AND state = old.state;
END;
