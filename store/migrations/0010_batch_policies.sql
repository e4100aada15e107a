-- The policies a batch was given (issue 18): kept with the batch so that a
-- resume, which names only the batch, applies what its campaign asked for.
-- quiet_hours is "HH:MM-HH:MM ZONE", or "off" for a batch that asked for
-- none whatever its account's configuration says; a batch without a row
-- follows its account's configuration.
CREATE TABLE batch_policies (
	batch_id    INTEGER PRIMARY KEY REFERENCES batches(id) ON DELETE CASCADE,
	quiet_hours TEXT NOT NULL DEFAULT ''
);
