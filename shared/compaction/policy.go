package compaction

import (
	"context"
	"errors"
	"time"

	"spass/shared/agent"
	"spass/shared/identity"
	"spass/shared/tenantcfg"
)

// DefaultWindow is the context window of a model whose window is unknown.
const DefaultWindow = 8192

// Policy is when and how a session compacts.
type Policy struct {
	Window    int     // the model's context window, in tokens
	Threshold float64 // the share of Window a prompt may fill
	Keep      int     // turns kept verbatim
}

// Limit is the most tokens a prompt may take before the session compacts.
func (p Policy) Limit() int { return int(float64(p.Window) * p.Threshold) }

// PolicyOf resolves a's compaction settings: the agent's own, else the tenant's
// (the settings cascade), with the window of a's model.
func (s *Service) PolicyOf(ctx context.Context, tenant string, a agent.Agent) Policy {
	p := Policy{Window: DefaultWindow, Threshold: 0.8, Keep: 4}
	if m := s.Router.Model(a.Model); m != nil && m.ContextWindow > 0 {
		p.Window = m.ContextWindow
	}
	if s.Settings != nil {
		if eff, err := s.Settings.Effective(ctx, tenant); err == nil {
			p.Threshold = eff.Float(tenantcfg.CompactionThreshold)
			p.Keep = int(eff.Int(tenantcfg.CompactionKeepTurns))
		}
	}
	if a.Compaction.Threshold > 0 {
		p.Threshold = a.Compaction.Threshold
	}
	if a.Compaction.KeepLastTurns > 0 {
		p.Keep = a.Compaction.KeepLastTurns
	}
	return p
}

// ErrBusy says another turn or compaction holds the session.
var ErrBusy = errors.New("compaction: the session is busy")

// Run compacts a session on request (POST /a1/sessions/{id}/compact, the
// session:compact job): it takes the session's lease, so it never runs beside a
// turn or another compaction, and releases it.
func (s *Service) Run(ctx context.Context, p identity.Principal, sessionID, parent string) (bool, error) {
	sess, ok, err := s.Store.Session(ctx, p.Tenant, "", sessionID)
	if err != nil || !ok {
		return false, errors.Join(err, agent.ErrNotFound)
	}
	a, found, err := s.Find(ctx, p.Tenant, sess.Agent)
	if err != nil || !found {
		return false, errors.Join(err, agent.ErrNotFound)
	}
	ov, err := agent.DecodeOverrides(sess.Overrides)
	if err == nil {
		a, err = a.Apply(ov)
	}
	if err != nil {
		return false, err
	}
	leased, err := s.Store.LeaseSession(ctx, p.Tenant, sess.ID, time.Now().Add(10*time.Minute).UnixMilli())
	if err != nil {
		return false, err
	}
	if !leased {
		return false, ErrBusy
	}
	defer s.Store.ReleaseSession(context.WithoutCancel(ctx), p.Tenant, sess.ID)
	pol := s.PolicyOf(ctx, p.Tenant, a)
	return s.Compact(ctx, p, sess, a, pol.Keep, pol.Window, parent)
}

// Finder looks up the agent a tenant sees by name (its own, else a file agent).
type Finder func(ctx context.Context, tenant, name string) (agent.Agent, bool, error)
