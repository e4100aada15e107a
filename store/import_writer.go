package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// importWriter is the Importer's goroutine: it inserts the blocks of rows
// Add hands over, in order, in transactions of importChunk rows.
type importWriter struct {
	d    *DB
	name string // the batch's, for errors
	args []any  // the batch id, then a block's rows: one statement's arguments

	blocks chan []any // full (or, last, partial) blocks of row arguments
	free   chan []any // emptied blocks, for Add to refill
	failed chan struct{}
	done   chan struct{}
	err    error // the first error; set before failed closes

	kick      chan struct{} // a chunk was committed: the WAL has pages to copy back
	ckptsDone chan struct{}

	abort    bool // set before blocks closes: roll back instead of commit
	stopOnce sync.Once

	// Owned by the goroutine.
	conn       *sql.Conn // foreign keys off: see run
	restore    func()    // sets the connection back as it was
	tx         *sql.Tx
	multi, one *sql.Stmt // insertRows rows at once; one row, for a short last block
	n          int       // rows in the open transaction
}

// importQueue is how many blocks may wait for the writer: enough to ride
// out a commit, few enough that memory stays flat.
const importQueue = 4

func (d *DB) startImportWriter(ctx context.Context, b Batch) *importWriter {
	w := &importWriter{d: d, name: b.Name, args: append(make([]any, 0, 1+insertRows*insertCols), b.ID),
		blocks: make(chan []any, importQueue), free: make(chan []any, importQueue+2),
		failed: make(chan struct{}), done: make(chan struct{}), kick: make(chan struct{}, 1), ckptsDone: make(chan struct{})}
	go w.run(ctx)
	go d.checkpoints(context.WithoutCancel(ctx), w.kick, w.done, w.ckptsDone)
	return w
}

// put hands block over and returns an empty one to fill next.
func (w *importWriter) put(ctx context.Context, block []any) ([]any, error) {
	if ctx.Err() != nil {
		return block[:0], context.Cause(ctx)
	}
	select {
	case w.blocks <- block:
	case <-w.failed:
		return block[:0], w.err
	case <-ctx.Done():
		return block[:0], context.Cause(ctx)
	}
	select {
	case next := <-w.free:
		return next, nil
	default:
		return make([]any, 0, insertRows*insertCols), nil
	}
}

// stop ends the writer once: it commits what it was given, or with abort
// rolls back what it has not committed. It returns the writer's error.
func (w *importWriter) stop(abort bool) error {
	w.stopOnce.Do(func() {
		w.abort = abort
		close(w.blocks)
	})
	<-w.done
	<-w.ckptsDone
	return w.err
}

// run inserts on a connection of its own with foreign keys off. Checking
// each row's batch_id against batches was about a tenth of the import's
// critical path, and it cannot fail here: the batch row exists before the
// import starts, and only its own importer deletes it, after the writer
// stops (DeleteBatch, for rejected input).
func (w *importWriter) run(ctx context.Context) {
	defer close(w.done)
	if err := w.open(ctx); err != nil {
		w.err = fmt.Errorf("import %s: %w", w.name, err)
		close(w.failed)
	}
	defer w.release()
	for block := range w.blocks {
		if w.err == nil {
			if err := w.insert(ctx, block); err != nil {
				if ctx.Err() != nil {
					err = context.Cause(ctx) // interrupted: say so, as Add does
				}
				w.err = err
				w.rollback()
				close(w.failed)
			}
		}
		clear(block)
		select {
		case w.free <- block[:0]:
		default:
		}
	}
	if w.err != nil {
		return
	}
	if w.abort {
		w.rollback()
		return
	}
	if err := w.commit(); err != nil {
		w.err = err
	}
}

// open takes the writer's connection out of the pool, turns its foreign key
// checks off (a no-op inside a transaction, so before the first) and leaves
// most checkpoints to the background (checkpoint.go).
func (w *importWriter) open(ctx context.Context) error {
	conn, err := w.d.db.Conn(ctx)
	if err != nil {
		return err
	}
	w.restore, err = setPragmas(ctx, conn, pragma{"foreign_keys", 0}, pragma{"wal_autocheckpoint", writerWALPages})
	if err != nil {
		conn.Close()
		return err
	}
	w.conn = conn
	return nil
}

// release hands the connection back to the pool as it was.
func (w *importWriter) release() {
	if w.conn == nil {
		return
	}
	w.restore()
	w.conn.Close()
}

// insert writes one block of rows, committing when the chunk is full.
func (w *importWriter) insert(ctx context.Context, block []any) error {
	if w.tx == nil {
		tx, err := w.conn.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("import %s: %w", w.name, err)
		}
		w.tx = tx
		if w.multi, err = tx.PrepareContext(ctx, insertSQL(insertRows)); err == nil {
			w.one, err = tx.PrepareContext(ctx, insertSQL(1))
		}
		if err != nil {
			return fmt.Errorf("import %s: %w", w.name, err)
		}
	}
	if len(block) == insertRows*insertCols {
		if _, err := w.multi.ExecContext(ctx, append(w.args[:1], block...)...); err != nil {
			return fmt.Errorf("import %s lines %v to %v: %w", w.name, block[0], block[len(block)-insertCols], err)
		}
	} else {
		for r := block; len(r) > 0; r = r[insertCols:] {
			if _, err := w.one.ExecContext(ctx, append(w.args[:1], r[:insertCols]...)...); err != nil {
				return fmt.Errorf("import %s line %v: %w", w.name, r[0], err)
			}
		}
	}
	if w.n += len(block) / insertCols; w.n >= importChunk {
		return w.commit()
	}
	return nil
}

func (w *importWriter) commit() error {
	if w.tx == nil {
		return nil
	}
	w.multi.Close()
	w.one.Close()
	err := w.tx.Commit()
	w.tx, w.multi, w.one, w.n = nil, nil, nil, 0
	if err != nil {
		return fmt.Errorf("import %s: %w", w.name, err)
	}
	select {
	case w.kick <- struct{}{}:
	default:
	}
	return nil
}

func (w *importWriter) rollback() {
	if w.tx == nil {
		return
	}
	for _, st := range []*sql.Stmt{w.multi, w.one} {
		if st != nil {
			st.Close()
		}
	}
	w.tx.Rollback()
	w.tx, w.multi, w.one, w.n = nil, nil, nil, 0
}
