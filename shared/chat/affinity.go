package chat

import (
	"encoding/hex"
	"hash/fnv"

	"github.com/tidwall/gjson"
)

// affinity is the request's key for cache-aware routing among the replicas of a
// tier (router.WithAffinity), most specific first:
//   - a /c1 conversation or /a1 session: every turn goes where its history is cached;
//   - the client's prompt_cache_key (OpenAI's field for the same purpose);
//   - else a hash of the leading messages up to the first user message (system
//     prompt, injected or the client's, and the opening question), which the
//     later turns of a conversation a /v1 client keeps itself repeat.
//
// The tenant is part of every key: two tenants' keys never collide, though equal
// prompts of two tenants may share a replica by chance of the hash.
func (c *call) affinity() string {
	if (c.opts.Surface == SurfaceC1 || c.opts.Surface == SurfaceA1) && c.opts.Ref != "" {
		return c.p.Tenant + "\x00" + string(c.opts.Surface) + ":" + c.opts.Ref
	}
	if c.req == nil {
		return ""
	}
	if k := gjson.GetBytes(c.req.Raw, "prompt_cache_key"); k.Type == gjson.String && k.Str != "" {
		return c.p.Tenant + "\x00pck:" + k.Str
	}
	h := fnv.New128a()
	n := 0
	gjson.GetBytes(c.req.Raw, "messages").ForEach(func(_, m gjson.Result) bool {
		h.Write([]byte(m.Raw))
		n++
		return m.Get("role").Str != "user"
	})
	if n == 0 {
		return ""
	}
	return c.p.Tenant + "\x00prefix:" + hex.EncodeToString(h.Sum(nil))
}
