package chat

import (
	"testing"

	"spass/shared/identity"
)

func TestAffinityKey(t *testing.T) {
	key := func(opts Options, tenant, body string) string {
		t.Helper()
		req, err := ParseChat([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		c := &call{opts: &opts, p: identity.Principal{Tenant: tenant}, req: req}
		return c.affinity()
	}
	turn1 := `{"model":"m","messages":[{"role":"system","content":"S"},{"role":"user","content":"Q1"}]}`
	turn2 := `{"model":"m","messages":[{"role":"system","content":"S"},{"role":"user","content":"Q1"},{"role":"assistant","content":"A1"},{"role":"user","content":"Q2"}]}`
	other := `{"model":"m","messages":[{"role":"system","content":"S"},{"role":"user","content":"Another"}]}`
	v1 := Options{}
	if key(v1, "acme", turn1) != key(v1, "acme", turn2) {
		t.Error("the turns of one /v1 conversation have different keys")
	}
	if key(v1, "acme", turn1) == key(v1, "acme", other) || key(v1, "acme", turn1) == key(v1, "globex", turn1) {
		t.Error("another conversation, or another tenant, has the same key")
	}
	pck := `{"model":"m","prompt_cache_key":"team","messages":[{"role":"user","content":"x"}]}`
	pck2 := `{"model":"m","prompt_cache_key":"team","messages":[{"role":"user","content":"y"}]}`
	if key(v1, "acme", pck) != key(v1, "acme", pck2) {
		t.Error("one prompt_cache_key, two keys")
	}
	c1 := Options{Surface: SurfaceC1, Ref: "conv_1"}
	if key(c1, "acme", turn1) != key(c1, "acme", other) {
		t.Error("one /c1 conversation, two keys")
	}
	batch := Options{Surface: SurfaceBatch, Ref: "batch_1"}
	if key(batch, "acme", turn1) == key(batch, "acme", other) {
		t.Error("a batch's lines share one key: the batch would load one replica")
	}
}
