package sdktest

import (
	"testing"

	"spass/local/gatewaytest"
)

// TestSDKSuiteOnLambdaPostgres runs the SDK suites, unchanged, against the
// bundle as AWS Lambda runs it: every endpoint group's real bootstrap under the
// Runtime API emulator, routed as template.yaml exposes them, on one PostgreSQL
// database per gateway. Once a gateway's suites are done its functions are
// stopped, and every answered inference request must have exactly one ledger
// row: a sandbox is frozen when its invocation returns, so a row not committed
// by then is lost. Batches are left out: under Lambda they need REDIS_URL and
// the host's workers (TestGoSDKBatch runs them in-process).
func TestSDKSuiteOnLambdaPostgres(t *testing.T) {
	type suite struct {
		name string
		run  func(*testing.T, *gatewaytest.Env)
	}
	gateways := []struct {
		name   string
		start  func(*testing.T, starter) *gatewaytest.Env
		suites []suite
	}{
		{"chat", startGateway, []suite{{"go", goSDK}, {"node", nodeSDK}, {"tool styles", goSDKToolStyles},
			{"half-written event", goSDKHalfWrittenEvent}, {"tool loop", goSDKToolLoop}}},
		{"responses", startResponsesGateway, []suite{{"go", goSDKResponses}, {"node", nodeResponses}}},
		{"audio", startAudioGateway, []suite{{"go", goSDKAudio}, {"node", nodeAudio}}},
	}
	for _, g := range gateways {
		t.Run(g.name, func(t *testing.T) {
			env := g.start(t, gatewaytest.StartBundle)
			for _, s := range g.suites {
				t.Run(s.name, func(t *testing.T) { s.run(t, env) })
			}
			env.CheckStreams(t)
			billed := env.CheckLedger(t)
			if billed == 0 {
				t.Error("no answer was billed: did the suites run?")
			}
			t.Logf("%d answers, %d of them billed, each with its one ledger row", len(env.Answers()), billed)
		})
	}
}
