package ratelimit

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// key names a scope's counters: spass:rl:{tenant} and spass:rl:{tenant}:u:<user>.
// The braces are a Redis Cluster hash tag, so a tenant's keys share a slot and one
// script may touch them all. Braces and % in a tenant id are escaped so the tag
// stays whole; the user id comes last, so it needs no escaping to stay unique.
func key(tenant, user string, perUser bool) string {
	if strings.ContainsAny(tenant, "{}%") {
		tenant = strings.NewReplacer("%", "%25", "{", "%7B", "}", "%7D").Replace(tenant)
	}
	if perUser {
		return "spass:rl:{" + tenant + "}:u:" + user
	}
	return "spass:rl:{" + tenant + "}"
}

// field names one fixed window's counter in a scope's hash: r<window index> for
// requests, t<window index> for tokens.
func field(kind string, idx int64) string { return kind + strconv.FormatInt(idx, 10) }

// admitScript is the whole check-and-count of one request. Redis's clock decides
// the window, so gateways with skewed clocks agree (Redis >= 5 replicates a script
// by its effects, which makes TIME in a writing script safe). Its arithmetic
// mirrors window.go exactly.
//
// KEYS: one hash per scope. ARGV[1]: the window in ms; then, per key, its request
// and token limits (0: none). Returns {admitted, now ms, then per key: requests,
// previous requests, tokens, previous tokens}, counted only when admitted.
const admitScript = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local w = tonumber(ARGV[1])
local e = now % w
local idx = (now - e) / w
local rc, rp = 'r' .. string.format('%d', idx), 'r' .. string.format('%d', idx - 1)
local tc, tp = 't' .. string.format('%d', idx), 't' .. string.format('%d', idx - 1)
local old = string.format('%d', idx - 2)
local out, ok = {0, now}, 1
for i, k in ipairs(KEYS) do
  local n = 2 + 4 * (i - 1)
  local v = redis.call('HMGET', k, rc, rp, tc, tp)
  local req, reqPrev = tonumber(v[1]) or 0, tonumber(v[2]) or 0
  local tok, tokPrev = tonumber(v[3]) or 0, tonumber(v[4]) or 0
  local rpm, tpm = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  if rpm > 0 and rpm - (reqPrev * (w - e) / w + req) < 1 then ok = 0 end
  if tpm > 0 and tpm - (tokPrev * (w - e) / w + tok) <= 0 then ok = 0 end
  out[n + 1], out[n + 2], out[n + 3], out[n + 4] = req, reqPrev, tok, tokPrev
end
if ok == 1 then
  for i, k in ipairs(KEYS) do
    if tonumber(ARGV[2 * i]) > 0 then
      out[3 + 4 * (i - 1)] = redis.call('HINCRBY', k, rc, 1)
      redis.call('HDEL', k, 'r' .. old, 't' .. old)
      if redis.call('HLEN', k) > 4 then
        for _, f in ipairs(redis.call('HKEYS', k)) do
          if f ~= rc and f ~= rp and f ~= tc and f ~= tp then redis.call('HDEL', k, f) end
        end
      end
      redis.call('PEXPIRE', k, 2 * w)
    end
  end
end
out[1] = ok
return out
`

// redisStore keeps the counters in Redis, shared by every gateway process.
type redisStore struct {
	rdb     *redis.Client // a clone of the caller's with short socket timeouts
	timeout time.Duration
	script  *redis.Script
}

func newRedisStore(rdb *redis.Client, timeout time.Duration) *redisStore {
	return &redisStore{rdb: rdb.WithTimeout(timeout), timeout: timeout, script: redis.NewScript(admitScript)}
}

func (s *redisStore) admit(ctx context.Context, scopes []scope, cs []counts) (int64, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	keys := make([]string, len(scopes))
	args := make([]any, 1, 1+2*len(scopes))
	args[0] = window
	for i, sc := range scopes {
		keys[i] = sc.key
		args = append(args, sc.rpm, sc.tpm)
	}
	v, err := s.script.Run(ctx, s.rdb, keys, args...).Int64Slice()
	if err != nil {
		return 0, false, err
	}
	if len(v) != 2+4*len(scopes) {
		return 0, false, fmt.Errorf("rate limit script returned %d values", len(v))
	}
	for i := range cs {
		r := v[2+4*i:]
		cs[i] = counts{req: r[0], reqPrev: r[1], tok: r[2], tokPrev: r[3]}
	}
	return v[1], v[0] == 1, nil
}

// addTokens increments the window's token field, drops the window before the
// previous one and renews the key's TTL, in one MULTI so a key never outlives its
// TTL: a field is needed until its window has stopped being the previous one.
func (s *redisStore) addTokens(ctx context.Context, scopes []scope, at, tokens int64) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	idx := at / window
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, sc := range scopes {
			p.HIncrBy(ctx, sc.key, field("t", idx), tokens)
			p.HDel(ctx, sc.key, field("r", idx-2), field("t", idx-2))
			p.PExpire(ctx, sc.key, 2*time.Duration(window)*time.Millisecond)
		}
		return nil
	})
	return err
}
