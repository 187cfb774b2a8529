package simulator

import (
	"container/list"
	"encoding/json"
	"hash/fnv"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// defaultPrefixCache is how many prompt prefixes a simulator keeps when
// Options.PrefillDelay is set and Options.PrefixCache is not.
const defaultPrefixCache = 4096

// messageOverhead is the tokens a chat template adds around each message.
const messageOverhead = 4

// prefixCache models an inference server's prefix (KV) cache, as vLLM's
// automatic prefix caching and LMCache keep it: a prompt whose leading messages
// this instance saw recently needs prefill only for the rest, so its first byte
// comes sooner. Prefixes are kept per message boundary, least recently used out
// first; the assistant's answer joins its prompt's prefix, as the next turn of
// the conversation repeats it.
type prefixCache struct {
	max int

	mu    sync.Mutex
	lru   *list.List // of uint64, most recent first
	index map[uint64]*list.Element

	hits, cached, prefilled atomic.Int64
}

func newPrefixCache(n int) *prefixCache {
	return &prefixCache{max: n, lru: list.New(), index: map[uint64]*list.Element{}}
}

// prefixHashes returns the hash of every prefix of the prompt (model and
// messages up to each boundary) and the prompt tokens up to each.
func prefixHashes(model string, msgs []chatMessage) (hashes []uint64, tokens []int) {
	h := fnv.New64a()
	h.Write([]byte(model))
	total := 0
	for _, m := range msgs {
		text, _ := messageText(m.Content)
		h.Write([]byte{0})
		h.Write([]byte(m.Role))
		h.Write([]byte{0})
		h.Write([]byte(text))
		total += countWords(text) + messageOverhead
		hashes, tokens = append(hashes, h.Sum64()), append(tokens, total)
	}
	return hashes, tokens
}

// extend returns the hash of prefix h followed by the assistant's answer.
func extend(model string, msgs []chatMessage, answer string) uint64 {
	all := append(msgs[:len(msgs):len(msgs)], chatMessage{Role: "assistant", Content: mustJSON(answer)})
	hs, _ := prefixHashes(model, all)
	return hs[len(hs)-1]
}

func mustJSON(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

// lookup returns how many prompt tokens the longest cached prefix covers and
// keeps every prefix of this prompt.
func (p *prefixCache) lookup(hashes []uint64, tokens []int) (cached, total int) {
	if len(hashes) == 0 {
		return 0, 0
	}
	total = tokens[len(tokens)-1]
	p.mu.Lock()
	for i := len(hashes) - 1; i >= 0; i-- {
		if _, ok := p.index[hashes[i]]; ok {
			cached = tokens[i]
			break
		}
	}
	for _, h := range hashes {
		p.touch(h)
	}
	p.mu.Unlock()
	if cached > 0 {
		p.hits.Add(1)
	}
	p.cached.Add(int64(cached))
	p.prefilled.Add(int64(total - cached))
	return cached, total
}

// keep adds one prefix.
func (p *prefixCache) keep(h uint64) {
	p.mu.Lock()
	p.touch(h)
	p.mu.Unlock()
}

// touch marks h most recently used; p.mu is held.
func (p *prefixCache) touch(h uint64) {
	if e, ok := p.index[h]; ok {
		p.lru.MoveToFront(e)
		return
	}
	p.index[h] = p.lru.PushFront(h)
	for p.lru.Len() > p.max {
		old := p.lru.Back()
		p.lru.Remove(old)
		delete(p.index, old.Value.(uint64))
	}
}

// prefill returns how long the simulator waits before the first byte of req: the
// first-byte delay (Options.FirstByteDelay, or as /sim/latency set it), plus
// PrefillDelay per prompt token no cached prefix covers.
func (s *Server) prefill(req chatRequest) time.Duration {
	d := time.Duration(s.firstByte.Load())
	if s.opts.PrefillDelay <= 0 {
		return d
	}
	hs, toks := prefixHashes(req.Model, req.Messages)
	cached, total := s.prefixes.lookup(hs, toks)
	return d + time.Duration(total-cached)*s.opts.PrefillDelay
}

// keepAnswer adds the prompt followed by its answer to the prefix cache.
func (s *Server) keepAnswer(req chatRequest, c completion) {
	if s.opts.PrefillDelay > 0 && len(c.toolCalls) == 0 {
		s.prefixes.keep(extend(req.Model, req.Messages, c.content()))
	}
}

// SetFirstByteDelay makes every later answer wait d more before its first byte,
// as a backend under load or on a throttled GPU does.
func (s *Server) SetFirstByteDelay(d time.Duration) { s.firstByte.Store(int64(d)) }

// handleLatency implements POST /sim/latency {"first_byte_ms": 200}, slowing the
// backend from another process (benchmarks, make run). It answers with the stats.
func (s *Server) handleLatency(w http.ResponseWriter, r *http.Request) {
	var req struct {
		FirstByteMS *int64 `json:"first_byte_ms"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<10)).Decode(&req); err != nil {
		writeError(w, errInvalidJSON(err))
		return
	}
	if req.FirstByteMS == nil {
		writeError(w, errMissingParam("first_byte_ms"))
		return
	}
	if *req.FirstByteMS < 0 {
		writeError(w, errInvalidParam("first_byte_ms", "must not be negative"))
		return
	}
	s.SetFirstByteDelay(time.Duration(*req.FirstByteMS) * time.Millisecond)
	writeJSON(w, http.StatusOK, s.stats())
}
