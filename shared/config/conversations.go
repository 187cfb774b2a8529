package config

import (
	"fmt"
	"slices"
)

// Provider choices of /c1: where a conversation's turns are served.
var ProviderChoices = []string{"local", "station", "cloud", "auto"}

// Conversations configures /c1.
type Conversations struct {
	// Providers maps each provider choice to the tiers it may use; an empty list
	// means every tier. Defaults: local [1] (the DGX Spark), station [2] (the GPU
	// station), cloud [3, 4], auto [] (the whole chain, local first).
	Providers map[string][]int `yaml:"providers"`
	// DefaultModel serves a conversation whose turns name no model; "" means the
	// first chat model in slug order.
	DefaultModel string `yaml:"default_model"`
}

func (c *Conversations) applyDefaults() {
	def := map[string][]int{"local": {1}, "station": {2}, "cloud": {3, 4}, "auto": nil}
	if c.Providers == nil {
		c.Providers = map[string][]int{}
	}
	for k, v := range def {
		if _, ok := c.Providers[k]; !ok {
			c.Providers[k] = v
		}
	}
}

func (c *Conversations) validate() error {
	for k, tiers := range c.Providers {
		if !slices.Contains(ProviderChoices, k) {
			return fmt.Errorf("conversations.providers: unknown provider %q (want one of %v)", k, ProviderChoices)
		}
		for _, t := range tiers {
			if t < 1 || t > 8 {
				return fmt.Errorf("conversations.providers.%s: tier %d is not 1-8", k, t)
			}
		}
	}
	return nil
}
