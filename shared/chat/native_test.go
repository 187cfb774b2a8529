package chat_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"spass/local/gatewaytest"
	"spass/shared/backend"
	"spass/shared/chat"
	"spass/shared/identity"
)

// TestRespondSendsTheChatFormWhenTheNativeCannotBeRedacted: a native form
// without Redact never goes to a cloud tier that the tenant's redaction applies
// to; that attempt goes in the chat form, redacted, and the answer comes back
// restored. Without redaction the same backend gets the native form.
func TestRespondSendsTheChatFormWhenTheNativeCannotBeRedacted(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{Sims: []string{"cloud"}, YAML: `
backends:
  - {name: cloud, kind: openai, base_url: "{{cloud}}"}
models:
  - {id: sim-chat, chain: [{backend: cloud}]}
`, AcmeDefaults: "{redaction.cloud: true}"})
	sim := env.Sims["cloud"]
	globex := identity.Principal{Tenant: "globex", Role: identity.RoleTenantAdmin, User: "bob"}
	for _, p := range []identity.Principal{alice, globex} {
		req, err := chat.ParseChat([]byte(body("Mail bob@example.com", "")))
		if err != nil {
			t.Fatal(err)
		}
		n := &chat.Native{Cap: backend.Responses, Path: "/responses", Body: []byte(`{"model":"sim-chat","input":"Mail bob@example.com"}`)}
		sink := &chat.Memory{}
		if _, err := env.App.Chat.Respond(context.Background(), p, req, n, chat.Options{Tools: chat.ToolPolicy{None: true}}, sink); err != nil {
			t.Fatal(err)
		}
		up := string(sim.LastRequest())
		redacted := p.Tenant == "acme"
		if n.Served == redacted || strings.Contains(up, "bob@example.com") != !redacted || gjson.Get(up, "messages").Exists() != redacted {
			t.Fatalf("tenant %s: native served %v, the cloud saw %s", p.Tenant, n.Served, up)
		}
		if !strings.Contains(string(sink.Body), "bob@example.com") {
			t.Fatalf("tenant %s: the answer %s lacks the value", p.Tenant, sink.Body)
		}
	}
}
