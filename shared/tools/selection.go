package tools

import "bytes"

// maxSelections bounds the cache of Select: the SPASS-Tools header lets a client
// pick any subset, and beyond the sets in real use a selection is built per call.
const maxSelections = 256

// Selection is a set of tools, in List order, with their definitions joined once:
// the tool loop injects the same JSON into every chat request of a tenant.
type Selection struct {
	Tools []*Tool
	defs  []byte
}

// Definitions returns the tools' definitions joined by commas, ready to go between
// the brackets of a tools[] array. The slice is shared: callers must not modify it.
func (s *Selection) Definitions() []byte { return s.defs }

// Has reports whether the selection holds the named tool.
func (s *Selection) Has(name string) bool {
	for _, t := range s.Tools {
		if t.Name == name {
			return true
		}
	}
	return false
}

// Select returns the selection of the tools at indices (ascending) of List. A
// selection is built once per distinct set and then shared.
func (r *Registry) Select(indices []uint16) *Selection {
	var buf [64]byte
	key := buf[:0]
	for _, ix := range indices {
		key = append(key, byte(ix>>8), byte(ix))
	}
	r.mu.RLock()
	s, ok := r.selections[string(key)] // no allocation for the lookup
	r.mu.RUnlock()
	if ok {
		return s
	}
	s = &Selection{Tools: make([]*Tool, len(indices))}
	defs := make([][]byte, len(indices))
	for i, ix := range indices {
		s.Tools[i] = r.sorted[ix]
		defs[i] = r.sorted[ix].def
	}
	s.defs = bytes.Join(defs, []byte{','})
	r.mu.Lock()
	if len(r.selections) < maxSelections {
		r.selections[string(key)] = s
	}
	r.mu.Unlock()
	return s
}
