package campaign

import (
	"sync"
	"time"

	"github.com/megasend/megasend/store"
	"github.com/megasend/megasend/template"
)

// maxCachedTemplates bounds the cache: past it, it starts afresh.
const maxCachedTemplates = 256

// templateRowTrust is how long a template read from the database is taken
// as current for single messages. Reading it for every message cost a
// sixth of accepting one; a template changed by another process (the CLI's
// 'template add') is used within this long, one changed through this
// Service at once.
const templateRowTrust = time.Second

// templateCache keeps the stored templates single messages are accepted
// with, and their parse and lint by key and body: a body seen before is not
// parsed or linted again, and a changed body is, being another entry.
type templateCache struct {
	mu     sync.Mutex
	rows   map[string]cachedRow
	parsed map[string]map[string]*template.Template // by key, then body
	// snaps are the parsed templates' bodies as a message keeps them, and
	// their hashes: hashing the body for every message accepted cost more
	// than the cache's lookup.
	snaps map[*template.Template]snapshot
}

// snapshot is a template body as a single message stores it.
type snapshot struct {
	body, hash, kind string
}

// snapshotOf returns t's snapshot. The hash of a customer-service or
// subscribe body covers its kind: the same bytes as two kinds are two
// message templates (migration 0014).
func snapshotOf(t *template.Template) snapshot {
	kind := t.Kind.OrDefault()
	if kind == template.KindTemplate {
		return snapshot{body: string(t.Body()), hash: hashBytes(t.Body()), kind: string(kind)}
	}
	return snapshot{body: string(t.Body()), hash: hashBytes(append([]byte(kind+"\n"), t.Body()...)), kind: string(kind)}
}

type cachedRow struct {
	t  store.Template
	at time.Time
}

// row returns the stored template key, from fetch unless read less than
// templateRowTrust ago.
func (c *templateCache) row(key string, fetch func() (store.Template, error)) (store.Template, error) {
	now := time.Now()
	c.mu.Lock()
	r, ok := c.rows[key]
	c.mu.Unlock()
	if ok && now.Sub(r.at) < templateRowTrust {
		return r.t, nil
	}
	t, err := fetch()
	if err != nil {
		return store.Template{}, err
	}
	c.mu.Lock()
	if c.rows == nil || len(c.rows) >= maxCachedTemplates {
		c.rows = map[string]cachedRow{}
	}
	c.rows[key] = cachedRow{t: t, at: now}
	c.mu.Unlock()
	return t, nil
}

// forget drops what is kept of template key: it was changed or removed.
func (c *templateCache) forget(key string) {
	c.mu.Lock()
	delete(c.rows, key)
	c.mu.Unlock()
}

// get returns the template key with body, parsing it with parse the first
// time. A refused template is not kept: its error is returned each time.
func (c *templateCache) get(key string, body []byte, parse func() (*template.Template, error)) (*template.Template, error) {
	c.mu.Lock()
	t, ok := c.parsed[key][string(body)] // no copy of body to look it up
	c.mu.Unlock()
	if ok {
		return t, nil
	}
	t, err := parse()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.parsed == nil || len(c.snaps) >= maxCachedTemplates {
		c.parsed, c.snaps = map[string]map[string]*template.Template{}, map[*template.Template]snapshot{}
	}
	if c.parsed[key] == nil {
		c.parsed[key] = map[string]*template.Template{}
	}
	c.parsed[key][string(body)] = t
	c.snaps[t] = snapshotOf(t)
	c.mu.Unlock()
	return t, nil
}

// snapshot returns t's body and its hash, as a message accepted with t
// keeps them; t is one get returned.
func (c *templateCache) snapshot(t *template.Template) snapshot {
	c.mu.Lock()
	sn, ok := c.snaps[t]
	c.mu.Unlock()
	if !ok { // the cache started afresh since get
		sn = snapshotOf(t)
	}
	return sn
}
