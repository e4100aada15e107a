package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
)

// importChunk is how many rows one import transaction holds, a whole number
// of INSERT statements: large enough that the commit cost vanishes, small
// enough that a killed import loses little.
const importChunk = 80 * insertRows

// Importer streams recipients into a batch in status importing. Add prepares
// rows in the caller's goroutine and hands them, insertRows at a time, to a
// goroutine of the Importer's own that inserts them and commits every
// importChunk rows: SQLite's inserts are the import's critical path, so
// everything else happens beside them. Finish marks duplicate openids skipped
// and the batch ready. An import that dies is redone from the start by
// NewImporter.
type Importer struct {
	d     *DB
	batch Batch
	rows  []any // arguments of the rows not handed over yet
	total int64 // rows added
	dups  *dupFilter
	w     *importWriter
}

// insertRows is how many rows one INSERT statement carries: the per-statement
// cost of database/sql and the driver is paid once for all of them.
const insertRows = 128

// insertCols is how many values each row binds. The batch id is bound once
// per statement, as ?1: binding is a tenth of the writer's work.
const insertCols = 4

func insertSQL(rows int) string {
	const row = `(?1, ?, ?, ?, ?)`
	q := `INSERT INTO recipients (batch_id, line, openid, vars, client_msg_id) VALUES ` + row
	for range rows - 1 {
		q += ", " + row
	}
	return q
}

// NewImporter starts (or restarts) the import of batch b: rows left by an
// earlier, interrupted import are deleted first. ctx bounds the whole
// import; Finish or Abort must follow.
func (d *DB) NewImporter(ctx context.Context, b Batch) (*Importer, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", b.Name, err)
	}
	defer tx.Rollback()
	for _, q := range []string{`DELETE FROM sends WHERE batch_id = ?`, `DELETE FROM recipients WHERE batch_id = ?`,
		`UPDATE batches SET frontier = 0, frontier_rows = 0 WHERE id = ?`} {
		if _, err := tx.ExecContext(ctx, q, b.ID); err != nil {
			return nil, fmt.Errorf("import %s: %w", b.Name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("import %s: %w", b.Name, err)
	}
	return &Importer{d: d, batch: b, rows: make([]any, 0, insertRows*insertCols),
		dups: newDupFilter(filterBits, maxSuspects), w: d.startImportWriter(ctx, b)}, nil
}

// ClientMsgID is the client_msg_id of a batch's recipient: the batch's
// random nonce and the input line. It is the same on every attempt, so
// WeChat's dedup recognises a resend, and at most 64 ASCII bytes.
func ClientMsgID(nonce string, line int64) string {
	return "ms-" + nonce + "-" + strconv.FormatInt(line, 10)
}

// Add appends one recipient. vars is the JSON object of its variables. An
// error from writing earlier rows is returned by a later Add or by Finish.
func (im *Importer) Add(ctx context.Context, line int64, openid, vars string) error {
	im.rows = append(im.rows, line, openid, vars, ClientMsgID(im.batch.Nonce, line))
	im.dups.add(openid)
	im.total++
	if len(im.rows) < insertRows*insertCols {
		return nil
	}
	return im.handOver(ctx)
}

// handOver passes the rows added so far to the writer.
func (im *Importer) handOver(ctx context.Context) error {
	next, err := im.w.put(ctx, im.rows)
	im.rows = next
	return err
}

// Abort stops the import: rows not yet committed are rolled back, committed
// chunks stay until the import is redone. The caller deletes the batch if
// the input was rejected.
func (im *Importer) Abort() {
	im.w.stop(true)
}

// Duplicate is a recipient skipped because its openid appeared earlier.
type Duplicate struct {
	Line, FirstLine int64
	OpenID          string
}

// ImportResult summarises a finished import.
type ImportResult struct {
	Total      int64
	Duplicates int64
	// FirstDuplicates holds up to 20 of them, in line order, for the report.
	FirstDuplicates []Duplicate
}

// Finish commits the last chunk, marks every repeated openid skipped (the
// first occurrence is the one sent), and sets the batch ready.
func (im *Importer) Finish(ctx context.Context) (ImportResult, error) {
	if len(im.rows) > 0 {
		if err := im.handOver(ctx); err != nil {
			im.Abort()
			return ImportResult{}, err
		}
	}
	if err := im.w.stop(false); err != nil {
		return ImportResult{}, err
	}
	d, id := im.d, im.batch.ID
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return ImportResult{}, fmt.Errorf("import %s: %w", im.batch.Name, err)
	}
	defer tx.Rollback()
	res := ImportResult{Total: im.total}
	if none, all, suspects := im.dups.scope(); !none {
		// The window function finds each openid's first line in one sort, in
		// constant Go memory, over the rows whose openid the filter suspects
		// (or all of them).
		scope, args := "", []any{id}
		if !all {
			list, err := json.Marshal(suspects)
			if err != nil {
				return ImportResult{}, fmt.Errorf("import %s: %w", im.batch.Name, err)
			}
			scope, args = ` AND openid IN (SELECT value FROM json_each(?2))`, append(args, string(list))
		}
		marked, err := tx.ExecContext(ctx, `INSERT INTO sends (batch_id, line, state, errmsg)
			SELECT ?1, line, 'skipped', 'duplicate openid (first on line ' || first || ')'
			FROM (SELECT line, MIN(line) OVER (PARTITION BY openid) AS first
			      FROM recipients WHERE batch_id = ?1`+scope+`) WHERE line <> first`, args...)
		if err != nil {
			return ImportResult{}, fmt.Errorf("import %s: mark duplicates: %w", im.batch.Name, err)
		}
		if n, _ := marked.RowsAffected(); n > 0 {
			if res, err = duplicates(ctx, tx, scope, args, res); err != nil {
				return ImportResult{}, fmt.Errorf("import %s: %w", im.batch.Name, err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE batches SET status = ?, total = ?, updated_at = ? WHERE id = ?`,
		StatusReady, im.total, d.nowMS(), id); err != nil {
		return ImportResult{}, err
	}
	return res, tx.Commit()
}

// duplicates fills in the count and the first few skipped duplicates; only
// called when there are some, as it sorts the rows in scope once more.
func duplicates(ctx context.Context, tx *sql.Tx, scope string, args []any, res ImportResult) (ImportResult, error) {
	rows, err := tx.QueryContext(ctx, `SELECT line, openid, first FROM
		(SELECT line, openid, MIN(line) OVER (PARTITION BY openid) AS first FROM recipients WHERE batch_id = ?1`+scope+`)
		WHERE line <> first ORDER BY line LIMIT 20`, args...)
	if err != nil {
		return res, err
	}
	for rows.Next() {
		var dup Duplicate
		if err := rows.Scan(&dup.Line, &dup.OpenID, &dup.FirstLine); err != nil {
			rows.Close()
			return res, err
		}
		res.FirstDuplicates = append(res.FirstDuplicates, dup)
	}
	rows.Close()
	err = tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM sends INDEXED BY sends_open
		WHERE batch_id = ? AND state <> 'sent' AND state = 'skipped'`, args[0]).Scan(&res.Duplicates)
	return res, err
}
