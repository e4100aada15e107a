package campaign

import (
	"sync"

	"github.com/megasend/megasend/template"
)

// maxCachedTemplates bounds the cache: past it, it starts afresh.
const maxCachedTemplates = 256

// templateCache keeps parsed and checked templates by their key and body,
// for the service's single messages: a body seen before is not parsed or
// linted again, and a changed body is, because it is another entry.
type templateCache struct {
	mu sync.Mutex
	m  map[string]*template.Template
}

// get returns the template key with body, parsing it with parse the first
// time. A refused template is not kept: its error is returned each time.
func (c *templateCache) get(key string, body []byte, parse func() (*template.Template, error)) (*template.Template, error) {
	id := key + "\x00" + string(body)
	c.mu.Lock()
	t, ok := c.m[id]
	c.mu.Unlock()
	if ok {
		return t, nil
	}
	t, err := parse()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedTemplates {
		c.m = map[string]*template.Template{}
	}
	c.m[id] = t
	c.mu.Unlock()
	return t, nil
}
