package respcache

import (
	"container/list"
	"sync"
	"time"
)

// Bounds of the in-process cache: enough for a developer's machine, small enough
// that nobody notices the memory.
const (
	memEntries = 1024
	memBytes   = 64 << 20
)

// memory is a least-recently-used map with per-entry expiry, bounded by entries
// and bytes. One mutex is enough: a hit costs far less than the request it saves.
type memory struct {
	now        func() time.Time
	maxEntries int
	maxBytes   int

	mu    sync.Mutex
	lru   *list.List // of *entry, most recent first
	byKey map[string]*list.Element
	bytes int
}

type entry struct {
	key     string
	body    []byte
	expires time.Time
}

func newMemory(now func() time.Time, maxEntries, maxBytes int) *memory {
	return &memory{now: now, maxEntries: maxEntries, maxBytes: maxBytes, lru: list.New(), byKey: map[string]*list.Element{}}
}

func (m *memory) get(key string) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	el := m.byKey[key]
	if el == nil {
		return nil, false
	}
	e := el.Value.(*entry)
	if !m.now().Before(e.expires) {
		m.remove(el)
		return nil, false
	}
	m.lru.MoveToFront(el)
	return e.body, true
}

// put stores a copy of body: the caller's buffer is not ours to keep.
func (m *memory) put(key string, body []byte, ttl time.Duration) {
	if len(body) > m.maxBytes {
		return
	}
	e := &entry{key: key, body: append([]byte(nil), body...), expires: m.now().Add(ttl)}
	m.mu.Lock()
	defer m.mu.Unlock()
	if el := m.byKey[key]; el != nil {
		m.remove(el)
	}
	m.byKey[key] = m.lru.PushFront(e)
	m.bytes += len(e.body)
	for m.lru.Len() > m.maxEntries || m.bytes > m.maxBytes {
		m.remove(m.lru.Back())
	}
}

func (m *memory) remove(el *list.Element) {
	e := m.lru.Remove(el).(*entry)
	delete(m.byKey, e.key)
	m.bytes -= len(e.body)
}
