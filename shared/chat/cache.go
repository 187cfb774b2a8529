package chat

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"

	"github.com/tidwall/gjson"
)

// cacheable returns the body when a chat request is deterministic enough to cache:
// not streamed, one choice, and temperature 0 or a seed. Otherwise nil.
func cacheable(req *Request) []byte {
	if req.Stream || !req.deterministic {
		return nil
	}
	return req.Raw
}

// cacheKey scopes the key by tenant, so tenants never share answers.
func cacheKey(tenant string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(tenant))
	h.Write([]byte{0})
	h.Write(body)
	return "spass:cache:" + hex.EncodeToString(h.Sum(nil))
}

// fromCache answers from a stored body and bills it at no cost.
func (c *call) fromCache(body []byte) error {
	c.res.Backend, c.res.Cached, c.free = "cache", true, true
	c.own = parseUsage(gjson.GetBytes(body, "usage"))
	c.res.Usage, c.res.answer = c.own, body
	c.finish(http.StatusOK)
	h := c.sink.Header()
	h[HeaderCache] = []string{"hit"}
	h[HeaderBackend] = []string{"cache"}
	c.sink.Answer(body)
	return nil
}
