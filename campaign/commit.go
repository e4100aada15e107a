package campaign

import (
	"context"
	"sync"
	"time"

	"github.com/megasend/megasend/store"
)

// maxGroup bounds how many messages one commit takes: a larger group
// would only make its first callers wait longer for their answer.
const maxGroup = 512

// linger is how long a commit waits for company when the last one had it.
const linger = 200 * time.Microsecond

// committer makes the single messages accepted at the same time durable
// in one transaction each: the commit, not the insert, is what costs, and
// it costs the same for one message as for hundreds (group commit). There
// is no goroutine of its own: the first caller to find nobody committing
// commits what is queued, then hands the next round to a caller queued
// meanwhile, so that no caller waits for more than two commits.
type committer struct {
	db *store.DB

	mu        sync.Mutex
	queue     []*commitWait
	leading   bool // somebody is committing
	lastGroup int  // how many the last commit took
}

// commitWait is one caller's message, and its answer once committed: a
// pointer into the group's answers, not a copy of one (a commitWait is
// allocated for every message accepted).
type commitWait struct {
	msg  store.NewMessage
	res  *store.Accepted
	err  error
	done chan bool // true: lead the next round
}

// accept returns once m is committed (or refused by its idempotency key).
// The commit does not end with ctx: another caller's message may be in it.
func (c *committer) accept(ctx context.Context, m store.NewMessage) (store.Accepted, error) {
	w := &commitWait{msg: m, done: make(chan bool, 1)}
	c.mu.Lock()
	c.queue = append(c.queue, w)
	if c.leading {
		c.mu.Unlock()
		if lead := <-w.done; !lead {
			return w.result()
		}
	} else {
		c.leading = true
		c.mu.Unlock()
	}
	// Leading: commit what is queued, this caller's message among it. When
	// the last round found company, others are on their way: a moment's
	// wait lets them into this commit, which costs about what one message
	// costs alone, rather than each into a commit of its own.
	c.mu.Lock()
	if c.lastGroup > 1 && len(c.queue) < c.lastGroup {
		c.mu.Unlock()
		time.Sleep(linger)
		c.mu.Lock()
	}
	n := min(len(c.queue), maxGroup)
	c.lastGroup = n
	group := c.queue[:n:n]
	c.queue = c.queue[n:]
	c.mu.Unlock()

	c.commit(context.WithoutCancel(ctx), group)

	c.mu.Lock()
	var next *commitWait
	if len(c.queue) > 0 {
		next = c.queue[0] // still leading: the round passes to it
	} else {
		c.leading = false
	}
	c.mu.Unlock()
	for _, g := range group {
		if g != w {
			g.done <- false
		}
	}
	if next != nil {
		next.done <- true
	}
	return w.result()
}

func (w *commitWait) result() (store.Accepted, error) {
	if w.err != nil {
		return store.Accepted{}, w.err
	}
	return *w.res, nil
}

// commit stores group in one transaction and gives each its answer.
func (c *committer) commit(ctx context.Context, group []*commitWait) {
	msgs := make([]store.NewMessage, len(group))
	for i, g := range group {
		msgs[i] = g.msg
	}
	res, err := c.db.AcceptMessages(ctx, msgs)
	for i, g := range group {
		if err != nil {
			g.err = err
			continue
		}
		g.res = &res[i]
	}
}
