package tenant_test

import (
	"encoding/json"
	"io"
	"strings"
	"testing"

	"spass/local/gatewaytest"
)

// TestToolNameIsNotEchoed reproduces issue 11, item 7: a 10 MB tool name came back
// whole in the 404's message. Now the message quotes it clipped, and a key the
// client invents is clipped in param too.
func TestToolNameIsNotEchoed(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	name := strings.Repeat("x", 10<<20)
	for _, c := range []struct{ method, path, body, code string }{
		{"POST", "/v1/tools/execute", `{"name":"` + name + `","arguments":{}}`, "tool_not_found"},
		{"PUT", "/v1/tenant/config", `{"` + name + `":1}`, "unknown_setting"},
	} {
		resp := gatewaytest.Do(t, env.Request(t, c.method, c.path, c.body))
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		var e struct {
			Error struct{ Message, Code string } `json:"error"`
		}
		if err := json.Unmarshal(b, &e); err != nil || e.Error.Code != c.code {
			t.Fatalf("%s: %d %.300s", c.path, resp.StatusCode, b)
		}
		if len(b) > 2048 || !strings.Contains(e.Error.Message, "xxxx") {
			t.Fatalf("%s: a %d-byte answer: %.300s", c.path, len(b), b)
		}
	}
}
