package billing_test

import (
	"testing"

	"spass/shared/billing"
)

// TestDiscounted takes a percentage off both currencies, rounding to the nano-unit.
func TestDiscounted(t *testing.T) {
	c := billing.Cost{NanoUSD: 1001, NanoEUR: 921}
	if got := c.Discounted(50); got != (billing.Cost{NanoUSD: 501, NanoEUR: 461}) {
		t.Fatalf("50 %%: %+v", got)
	}
	if c.Discounted(0) != c || c.Discounted(100) != (billing.Cost{}) {
		t.Fatal("0 % must change nothing and 100 % take everything")
	}
}
