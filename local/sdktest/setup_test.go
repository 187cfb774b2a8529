// Package sdktest drives the official OpenAI SDKs (openai-go and the openai npm
// package) through a real gateway, proving that tenants can point them at SPASS
// unchanged: each suite runs against the in-process gateway (TestGoSDK ...) and,
// unchanged, against the Lambda bundle on PostgreSQL (TestSDKSuiteOnLambdaPostgres).
// The package has only tests.
package sdktest

import (
	"os"
	"testing"

	"spass/local/gatewaytest"
	"spass/local/simulator"
)

// setupYAML serves the simulator models through the healthy backend "sim",
// plus three models whose only backend is broken on purpose: "flaky" answers
// every request with 429, "broken" with 500, and "half-written" streams an
// event that is half a chunk; and one model per tool style of local backends
// (gatewaytest.ToolStyles).
func setupYAML(st gatewaytest.Styles) string {
	return `
backends:
  - {name: sim, kind: simulator, base_url: "{{sim}}"}
  - {name: limited, kind: simulator, base_url: "{{limited}}"}
  - {name: down, kind: simulator, base_url: "{{down}}"}
  - {name: half, kind: simulator, base_url: "{{half}}"}
` + st.Backends + `models:
  - {id: sim-chat, context_window: 32768, chain: [{backend: sim}]}
  - {id: sim-vision, vision: true, chain: [{backend: sim}]}
  - {id: sim-embed, type: embedding, chain: [{backend: sim}]}
  - {id: flaky, chain: [{backend: limited, model: sim-chat}]}
  - {id: broken, chain: [{backend: down, model: sim-chat}]}
  - {id: half-written, chain: [{backend: half, model: sim-chat}]}
` + st.Models
}

// The models of setupYAML whose chains fail, and the bearer token the SDKs use
// (an ordinary tenant user, as a real SDK caller would be).
const (
	model429  = "flaky"
	model5xx  = "broken"
	modelHalf = "half-written"
	sdkToken  = gatewaytest.UserToken
)

// starter runs a gateway for a Setup: gatewaytest.Start in-process, or
// gatewaytest.StartBundle as Lambda functions on PostgreSQL. Every suite runs
// unchanged against both.
type starter func(testing.TB, gatewaytest.Setup) *gatewaytest.Env

// startGateway runs the gateway of setupYAML with the faulty simulators in
// their fault modes.
func startGateway(t *testing.T, start starter) *gatewaytest.Env {
	t.Helper()
	st := gatewaytest.ToolStyles()
	env := start(t, gatewaytest.Setup{
		Sims:      append([]string{"sim", "limited", "down", "half"}, st.Sims...),
		SimStyles: st.SimStyles,
		YAML:      setupYAML(st),
	})
	env.Sims["limited"].SetFault(simulator.Fault429)
	env.Sims["down"].SetFault(simulator.Fault500)
	env.Sims["half"].SetFault(simulator.FaultHalfEvent)
	return env
}

// inProcess runs suite against the in-process gateway of start (startGateway,
// startResponsesGateway, startAudioGateway), then checks that every answer it
// billed has its one ledger row, as TestSDKSuiteOnLambdaPostgres does for the
// bundle.
func inProcess(t *testing.T, start func(*testing.T, starter) *gatewaytest.Env, suite func(*testing.T, *gatewaytest.Env)) {
	env := start(t, gatewaytest.Start)
	suite(t, env)
	env.CheckLedger(t)
}

func TestMain(m *testing.M) {
	code := m.Run()
	gatewaytest.RemoveBootstraps()
	os.Exit(code)
}
