package router

import "slices"

// Filter narrows a model's chain for one request, a provider choice: some tiers
// only, or only local or only cloud backends. The zero Filter keeps the chain.
type Filter struct {
	// Tiers keeps only targets of these tiers; nil keeps every tier.
	Tiers []int
	// Where is "local", "cloud" or "" for both.
	Where string
}

// Where values.
const (
	Local = "local"
	Cloud = "cloud"
)

// IsZero reports whether f keeps the whole chain.
func (f Filter) IsZero() bool { return len(f.Tiers) == 0 && f.Where == "" }

// allows reports whether t passes the filter.
func (f Filter) allows(t Target) bool {
	if len(f.Tiers) > 0 && !slices.Contains(f.Tiers, t.Tier) {
		return false
	}
	switch f.Where {
	case Local:
		return !t.Backend.Profile.Cloud
	case Cloud:
		return t.Backend.Profile.Cloud
	}
	return true
}
