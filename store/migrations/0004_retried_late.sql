-- How many of a batch's recipients ran out of their transient budget (-1,
-- HTTP 5xx, timeouts retried for minutes) and were tried once more at the
-- end of a run, over all its runs: what `report` calls "retried late". The
-- ledger adds to it in the commit that records those recipients' outcomes,
-- so it never counts one whose outcome is not recorded.
ALTER TABLE batches ADD COLUMN retried_late INTEGER NOT NULL DEFAULT 0;
