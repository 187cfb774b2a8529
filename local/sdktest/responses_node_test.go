package sdktest

import (
	"testing"

	"spass/local/gatewaytest"
)

// TestNodeSDKResponses runs node/responses.mjs (the openai npm package's
// client.responses) against the gateway of responsesYAML. Node and node_modules
// are needed as for TestNodeSDK: missing, the test fails in CI and skips locally.
func TestNodeSDKResponses(t *testing.T) { inProcess(t, startResponsesGateway, nodeResponses) }

func nodeResponses(t *testing.T, env *gatewaytest.Env) {
	runNode(t, "responses.mjs", "SPASS_BASE_URL="+env.URL+"/v1", "SPASS_TOKEN="+sdkToken,
		"SPASS_MODEL_CHAT=sim-chat", "SPASS_MODEL_NATIVE=native-chat")
}
