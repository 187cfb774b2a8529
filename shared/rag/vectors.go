package rag

import (
	"context"
	"math"
	"runtime"
	"slices"
	"sync"

	"spass/shared/ragdoc"
)

// DefaultVectorBudget bounds the memory the vector cache holds: 100,000 chunks
// of 256 dimensions take about 100 MiB.
const DefaultVectorBudget = 512 << 20

// vectorCache keeps each index's chunk embeddings in memory between queries:
// SQLite has no vector search, and reading 100,000 embeddings per query would
// cost more than scoring them. An entry is valid while its generation is the
// index's (every chunk write or delete bumps it, in any process), so a process
// never serves vectors another one has changed, and a deleted chunk that is still
// scored is dropped when the hits are read back from the store. Past the budget
// the least recently used indices are dropped.
type vectorCache struct {
	load   func(ctx context.Context, tenant, indexID string) (*ragdoc.Vectors, error)
	budget int64

	mu      sync.Mutex
	entries map[string]*vecEntry // by index id
	total   int64
	tick    int64
}

type vecEntry struct {
	tenant string
	mu     sync.Mutex // one load at a time per index
	v      *ragdoc.Vectors
	bytes  int64 // accounted in total; under the cache's mu
	used   int64 // the cache's tick at the last use; under the cache's mu
}

func newVectorCache(budget int64, load func(ctx context.Context, tenant, indexID string) (*ragdoc.Vectors, error)) *vectorCache {
	return &vectorCache{load: load, budget: budget, entries: map[string]*vecEntry{}}
}

// get returns the vectors of the tenant's index at its generation or later.
func (c *vectorCache) get(ctx context.Context, tenant string, ix ragdoc.Index) (*ragdoc.Vectors, error) {
	c.mu.Lock()
	e := c.entries[ix.ID]
	if e == nil || e.tenant != tenant {
		e = &vecEntry{tenant: tenant}
		c.entries[ix.ID] = e
	}
	c.tick++
	e.used = c.tick
	c.mu.Unlock()

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.v != nil && e.v.Generation >= ix.Generation {
		return e.v, nil
	}
	v, err := c.load(ctx, tenant, ix.ID)
	if err != nil {
		return nil, err
	}
	e.v = v
	c.account(ix.ID, e, v.Bytes())
	return v, nil
}

// account records e's new size and drops the least recently used other entries
// while the total is past the budget. A dropped entry's vectors stay with the
// queries using them; the next query loads them again.
func (c *vectorCache) account(id string, e *vecEntry, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries[id] != e {
		return // dropped while loading
	}
	c.total += bytes - e.bytes
	e.bytes = bytes
	for c.total > c.budget {
		var oldest string
		for k, o := range c.entries {
			if o != e && (oldest == "" || o.used < c.entries[oldest].used) {
				oldest = k
			}
		}
		if oldest == "" {
			return // e alone is past the budget: kept, as it is in use
		}
		c.total -= c.entries[oldest].bytes
		delete(c.entries, oldest)
	}
}

// forget drops an index (deleted).
func (c *vectorCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entries[id]; e != nil {
		c.total -= e.bytes
		delete(c.entries, id)
	}
}

// scored is one vector's rank material: its row in Vectors and its cosine.
type scored struct {
	row   int
	score float32
}

// parallelWork is the rows × dimensions above which nearest scores shards of the
// rows on several CPUs: 100,000 vectors of 256 take tens of milliseconds on one.
const parallelWork = 1 << 20

// nearest returns the n rows most similar to q (unit length, as stored vectors
// are), best first, skipping documents allow (when non-nil) does not hold. Each
// shard keeps a bounded min-heap, so it is one pass without a score per row.
func nearest(v *ragdoc.Vectors, q []float32, n int, allow map[string]bool) []scored {
	if v.Dims != len(q) || n <= 0 {
		return nil
	}
	rows := len(v.RowIDs)
	shards := 1
	if rows*v.Dims >= parallelWork {
		shards = min(runtime.GOMAXPROCS(0), 8)
	}
	per := (rows + shards - 1) / max(shards, 1)
	parts := make([][]scored, shards)
	var wg sync.WaitGroup
	for i := range shards {
		wg.Go(func() { parts[i] = topN(v, q, n, allow, i*per, min(rows, (i+1)*per)) })
	}
	wg.Wait()
	var out []scored
	for _, p := range parts {
		out = append(out, p...)
	}
	slices.SortFunc(out, func(a, b scored) int {
		if less(b, a) {
			return -1
		}
		if less(a, b) {
			return 1
		}
		return 0
	})
	return out[:min(len(out), n)]
}

// topN is the heap of the n best rows in [from, to).
func topN(v *ragdoc.Vectors, q []float32, n int, allow map[string]bool, from, to int) []scored {
	h := make([]scored, 0, n)
	for i := from; i < to; i++ {
		if allow != nil && !allow[v.Docs[i]] {
			continue
		}
		s := dot(v.Data[i*v.Dims:(i+1)*v.Dims], q)
		switch {
		case len(h) < n:
			h = append(h, scored{i, s})
			up(h, len(h)-1)
		case s > h[0].score:
			h[0] = scored{i, s}
			down(h, 0)
		}
	}
	return h
}

// less orders the min-heap: the lower score, and of equal scores the later row,
// is nearer the top, so ties rank the earlier chunk first.
func less(a, b scored) bool { return a.score < b.score || a.score == b.score && a.row > b.row }

func up(h []scored, i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !less(h[i], h[p]) {
			return
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func down(h []scored, i int) {
	for {
		l, m := 2*i+1, i
		if l < len(h) && less(h[l], h[m]) {
			m = l
		}
		if r := l + 1; r < len(h) && less(h[r], h[m]) {
			m = r
		}
		if m == i {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// dot is the inner product, four lanes at a time.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return s0 + s1 + s2 + s3
}

// normalize scales v to unit length in place; a zero vector stays zero.
func normalize(v []float32) {
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	if n == 0 {
		return
	}
	inv := float32(1 / math.Sqrt(n))
	for i := range v {
		v[i] *= inv
	}
}
