package router

import "context"

// affinityKey is the context key of a request's affinity key.
type affinityKey struct{}

// WithAffinity returns ctx carrying key: requests with equal keys go to the same
// replica of a tier while it is up and not much slower than the others, so the
// replica's prefix cache (vLLM prefix caching, LMCache) serves the shared part of
// their prompts. The chat core sets it (a conversation or session id, the
// client's prompt_cache_key, else a hash of the prompt's leading messages).
func WithAffinity(ctx context.Context, key string) context.Context {
	if key == "" {
		return ctx
	}
	return context.WithValue(ctx, affinityKey{}, key)
}

// Affinity returns the affinity key ctx carries, "" for none.
func Affinity(ctx context.Context) string {
	k, _ := ctx.Value(affinityKey{}).(string)
	return k
}

// hrw is the rendezvous (highest random weight) score of key on the named
// backend. Each key ranks the replicas by score; a replica that leaves moves only
// its own keys, to each key's next replica, and every gateway host (the score is
// FNV-1a and a fixed mix, the same in every process) ranks them alike.
func hrw(key, backend string) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for i := 0; i < len(key); i++ {
		h = (h ^ uint64(key[i])) * prime
	}
	h = (h ^ 0xff) * prime // a separator no UTF-8 text holds
	for i := 0; i < len(backend); i++ {
		h = (h ^ uint64(backend[i])) * prime
	}
	// splitmix64's finalizer: FNV's low-entropy high bits would let one backend
	// win most keys.
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	return h ^ h>>31
}
