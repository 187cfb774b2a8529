// Package billing prices requests and writes the ledger: one row per request and
// per sub-call, made durable (appended to the ledger journal) before the response's
// last byte, so every answer a client received is billed even if the process dies
// right after. A stream's start is journaled too (Begin), so a stream cut by the
// process dying is billed as interrupted, with estimated usage.
package billing

import (
	"math"

	"spass/shared/config"
)

// Tokens is a request's token usage.
type Tokens struct {
	Prompt, Completion, Cached int64
}

// Cost is an amount in nano-units (1e-9 USD or EUR), exact under summing.
type Cost struct {
	NanoUSD, NanoEUR int64
}

// Pricer prices token usage per model.
type Pricer struct {
	prices    map[string]config.Pricing
	eurPerUSD float64
}

// NewPricer reads model prices (USD per million tokens) and the EUR rate.
func NewPricer(cfg *config.Config) *Pricer {
	p := &Pricer{prices: map[string]config.Pricing{}, eurPerUSD: cfg.Billing.EURPerUSD}
	for _, m := range cfg.Models {
		p.prices[m.ID] = m.Pricing
	}
	return p
}

// Price returns the cost of t on model with markupPercent added. Cached prompt
// tokens are charged at the cached-input price (the input price when unset).
func (p *Pricer) Price(model string, t Tokens, markupPercent float64) Cost {
	pr := p.prices[model]
	cachedPrice := pr.CachedInput
	if cachedPrice == 0 {
		cachedPrice = pr.Input
	}
	uncached := max(t.Prompt-t.Cached, 0)
	// price per million tokens = price*1e3 nano-units per token.
	usd := (float64(uncached)*pr.Input + float64(t.Cached)*cachedPrice + float64(t.Completion)*pr.Output) * 1e3
	usd *= 1 + markupPercent/100
	return Cost{NanoUSD: int64(math.Round(usd)), NanoEUR: int64(math.Round(usd * p.eurPerUSD))}
}

// Discounted returns c with percent taken off, rounded to the nano-unit.
func (c Cost) Discounted(percent float64) Cost {
	if percent <= 0 {
		return c
	}
	f := 1 - min(percent, 100)/100
	return Cost{NanoUSD: int64(math.Round(float64(c.NanoUSD) * f)), NanoEUR: int64(math.Round(float64(c.NanoEUR) * f))}
}

// Plus returns the sum of two usages.
func (t Tokens) Plus(o Tokens) Tokens {
	return Tokens{Prompt: t.Prompt + o.Prompt, Completion: t.Completion + o.Completion, Cached: t.Cached + o.Cached}
}
