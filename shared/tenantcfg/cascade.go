package tenantcfg

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"spass/shared/apierr"
	"spass/shared/config"
	"spass/shared/store"
)

// Sources of a value, from weakest to strongest.
const (
	SourceDefault = "default"
	SourceEnv     = "env"
	SourceFile    = "gateway.yaml"
	SourceTenant  = "tenant"
)

// Value is a setting's effective value and where it came from.
type Value struct {
	Value  any    `json:"value"`
	Source string `json:"source"`
}

// Effective is a tenant's resolved settings.
type Effective struct {
	Tenant string           `json:"tenant"`
	Values map[string]Value `json:"config"`
}

// Service resolves the cascade. Resolved settings are cached per tenant for a short
// TTL (writes through this process invalidate at once), because the hot path reads
// them on every request.
type Service struct {
	process map[string]Value
	file    map[string]map[string]any
	db      *store.DB
	ttl     time.Duration

	mu      sync.Mutex
	cache   map[string]cached
	version uint64 // counts invalidations: a load older than one is not cached
}

type cached struct {
	at         time.Time
	eff        *Effective
	refreshing bool // a background load is under way
}

// New validates the process and gateway.yaml levels; errors name the key.
func New(cfg *config.Config, getenv func(string) string, db *store.DB) (*Service, error) {
	s := &Service{process: map[string]Value{}, file: map[string]map[string]any{}, db: db, ttl: 2 * time.Second, cache: map[string]cached{}}
	for _, k := range Keys {
		s.process[k.Name] = Value{Value: k.Default, Source: SourceDefault}
		raw := getenv(EnvName(k.Name))
		if raw == "" {
			continue
		}
		v, err := k.Normalize(parseEnv(k, raw))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvName(k.Name), err)
		}
		s.process[k.Name] = Value{Value: v, Source: SourceEnv}
	}
	for tenant, t := range cfg.Tenants {
		m := map[string]any{}
		for name, raw := range t.Defaults {
			k, ok := Lookup(name)
			if !ok {
				return nil, fmt.Errorf("tenants.%s.defaults.%s: unknown key", tenant, name)
			}
			v, err := k.Normalize(raw)
			if err != nil {
				return nil, fmt.Errorf("tenants.%s.defaults.%s: %w", tenant, name, err)
			}
			m[name] = v
		}
		s.file[tenant] = m
	}
	return s, nil
}

func parseEnv(k Key, raw string) any {
	switch k.Kind {
	case Int, Float:
		if f, err := strconv.ParseFloat(raw, 64); err == nil {
			return f
		}
	case Bool:
		if b, err := strconv.ParseBool(raw); err == nil {
			return b
		}
	case Strings:
		var out []any
		for _, p := range strings.Split(raw, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out
	}
	return raw
}

// Effective returns the tenant's resolved settings. A cached value older than
// half the TTL is still served while one background load refreshes it, so the
// requests never wait for the database under steady traffic; past the TTL (no
// request for a while) the caller loads it. Either way a change made through
// another process shows within the TTL.
func (s *Service) Effective(ctx context.Context, tenant string) (*Effective, error) {
	s.mu.Lock()
	c, ok := s.cache[tenant]
	age := time.Since(c.at)
	refresh := ok && age >= s.ttl/2 && age < s.ttl && !c.refreshing
	if refresh {
		c.refreshing = true
		s.cache[tenant] = c
	}
	version := s.version
	s.mu.Unlock()
	if refresh {
		go s.load(context.WithoutCancel(ctx), tenant, version)
	}
	if ok && age < s.ttl {
		return c.eff, nil
	}
	return s.load(ctx, tenant, version)
}

// load resolves the tenant's settings and caches them, unless a write invalidated
// the cache since version was read (the load may predate the write).
func (s *Service) load(ctx context.Context, tenant string, version uint64) (*Effective, error) {
	eff := &Effective{Tenant: tenant, Values: make(map[string]Value, len(Keys))}
	for name, v := range s.process {
		eff.Values[name] = v
	}
	for name, v := range s.file[tenant] {
		eff.Values[name] = Value{Value: v, Source: SourceFile}
	}
	if s.db != nil {
		over, err := s.db.ConfigOverrides(ctx, tenant)
		if err != nil {
			s.mu.Lock()
			if c, ok := s.cache[tenant]; ok && c.refreshing {
				c.refreshing = false // let the next request try again
				s.cache[tenant] = c
			}
			s.mu.Unlock()
			return nil, apierr.E(apierr.Internal, "", err)
		}
		for name, raw := range over {
			k, ok := Lookup(name)
			if !ok {
				continue // a key a newer binary wrote; ignore rather than fail the tenant
			}
			var dec any
			if json.Unmarshal(raw, &dec) != nil {
				continue
			}
			if v, err := k.Normalize(dec); err == nil {
				eff.Values[name] = Value{Value: v, Source: SourceTenant}
			}
		}
	}
	s.mu.Lock()
	if s.version == version {
		s.cache[tenant] = cached{at: time.Now(), eff: eff}
	}
	s.mu.Unlock()
	return eff, nil
}

// Set validates and stores tenant overrides; unknown keys and bad values are
// refused with the key named in the error's param, and nothing is stored.
func (s *Service) Set(ctx context.Context, tenant string, body map[string]json.RawMessage, by string) error {
	if len(body) == 0 {
		return apierr.E(apierr.InvalidRequest, "Send a JSON object of settings to change.", nil)
	}
	clean := make(map[string]json.RawMessage, len(body))
	for name, raw := range body {
		k, ok := Lookup(name)
		if !ok {
			return apierr.P(apierr.UnknownSetting, name, ""+apierr.Quote(name)+" is not a tenant setting.")
		}
		var dec any
		if err := json.Unmarshal(raw, &dec); err != nil {
			return apierr.P(apierr.InvalidSetting, name, name+" is not valid JSON.")
		}
		v, err := k.Normalize(dec)
		if err != nil {
			return apierr.P(apierr.InvalidSetting, name, err.Error()+".")
		}
		clean[name], _ = json.Marshal(v)
	}
	if err := s.db.SetConfig(ctx, tenant, clean, by); err != nil {
		return apierr.E(apierr.Internal, "", err)
	}
	s.invalidate(tenant)
	return nil
}

// Delete removes one override (key) or all of them (key == ""), so the value falls
// back to gateway.yaml, the environment or the default.
func (s *Service) Delete(ctx context.Context, tenant, key string) error {
	if key != "" {
		if _, ok := Lookup(key); !ok {
			return apierr.P(apierr.UnknownSetting, key, ""+apierr.Quote(key)+" is not a tenant setting.")
		}
	}
	if _, err := s.db.DeleteConfig(ctx, tenant, key); err != nil {
		return apierr.E(apierr.Internal, "", err)
	}
	s.invalidate(tenant)
	return nil
}

func (s *Service) invalidate(tenant string) {
	s.mu.Lock()
	delete(s.cache, tenant)
	s.version++
	s.mu.Unlock()
}

// Int returns an integer setting.
func (e *Effective) Int(name string) int64 { v, _ := e.Values[name].Value.(int64); return v }

// Float returns a number setting.
func (e *Effective) Float(name string) float64 { v, _ := e.Values[name].Value.(float64); return v }

// Bool returns a boolean setting.
func (e *Effective) Bool(name string) bool { v, _ := e.Values[name].Value.(bool); return v }

// String returns a string setting.
func (e *Effective) String(name string) string { v, _ := e.Values[name].Value.(string); return v }

// Strings returns a list setting.
func (e *Effective) Strings(name string) []string { v, _ := e.Values[name].Value.([]string); return v }

// ModelAllowed applies the allowlist (empty allows all) and the blacklist (wins).
func (e *Effective) ModelAllowed(model string) bool {
	if slices.Contains(e.Strings(ModelBlacklist), model) {
		return false
	}
	allow := e.Strings(ModelAllowlist)
	return len(allow) == 0 || slices.Contains(allow, model)
}

// Listed reports whether name is in a list setting that may hold the wildcard "*".
func (e *Effective) Listed(list, name string) bool {
	l := e.Strings(list)
	return slices.Contains(l, "*") || slices.Contains(l, name)
}
