-- How many delivery receipts each account has, by status, kept by triggers
-- on receipts, so that a scrape of serve's /metrics reads a few rows instead
-- of every receipt ever kept: the receipts table only grows, and counting a
-- million of them took a fifth of a second. The trigger makes recording a
-- receipt about 1.4 times as long (+20 us; BENCHMARKS.md). (0008, not 0007:
-- that number went to the single messages of issue 17.)
CREATE TABLE receipt_tallies (
	account TEXT NOT NULL,
	status  TEXT NOT NULL,
	n       INTEGER NOT NULL,
	PRIMARY KEY (account, status)
) WITHOUT ROWID;

INSERT INTO receipt_tallies (account, status, n)
SELECT account, status, COUNT(*) FROM receipts GROUP BY account, status;

-- A push repeated is ON CONFLICT DO NOTHING: no row inserted, no trigger.
CREATE TRIGGER receipts_tally_insert AFTER INSERT ON receipts BEGIN
	INSERT INTO receipt_tallies (account, status, n) VALUES (new.account, new.status, 1)
		ON CONFLICT (account, status) DO UPDATE SET n = n + 1;
END;

-- Nothing deletes or rewrites a receipt today; whatever comes to keeps the
-- tallies true all the same.
CREATE TRIGGER receipts_tally_delete AFTER DELETE ON receipts BEGIN
	UPDATE receipt_tallies SET n = n - 1 WHERE account = old.account AND status = old.status;
END;
CREATE TRIGGER receipts_tally_update AFTER UPDATE OF account, status ON receipts BEGIN
	UPDATE receipt_tallies SET n = n - 1 WHERE account = old.account AND status = old.status;
	INSERT INTO receipt_tallies (account, status, n) VALUES (new.account, new.status, 1)
		ON CONFLICT (account, status) DO UPDATE SET n = n + 1;
END;
