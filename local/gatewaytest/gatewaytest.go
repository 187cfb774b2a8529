// Package gatewaytest starts a whole gateway for tests: simulator backends on real
// loopback HTTP servers, the config they describe, and the dev shim on another
// server, so tests speak HTTP to the same handler `make run` serves.
package gatewaytest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"spass/functions"
	"spass/local/simulator"
	"spass/shared/app"
	"spass/shared/auth"
	"spass/shared/config"
	"spass/shared/store"
	"spass/shared/web"
)

// The test tenants.
const (
	Tenant      = "acme"   // AdminToken, UserToken and ReadOnlyToken
	OtherTenant = "globex" // OtherToken
)

// Tokens of the test tenants.
const (
	AdminToken    = "sk-test-admin"    // tenant "acme", role admin
	UserToken     = "sk-test-user"     // tenant "acme", role user
	ReadOnlyToken = "sk-test-readonly" // tenant "acme", role read-only
	OtherToken    = "sk-test-other"    // tenant "globex", role tenant_admin
	// OperatorToken and MetricsToken belong to no tenant (gateway.yaml operators:).
	OperatorToken = "sk-test-operator" // role operator
	MetricsToken  = "sk-test-metrics"  // role metrics
)

// DefaultYAML routes the simulator models through one backend named "sim".
const DefaultYAML = `
backends:
  - {name: sim, kind: simulator, base_url: "{{sim}}"}
models:
  - {id: sim-chat, context_window: 32768, chain: [{backend: sim}]}
  - {id: sim-vision, vision: true, chain: [{backend: sim}]}
  - {id: sim-embed, type: embedding, chain: [{backend: sim}]}
  - {id: sim-image, type: image, chain: [{backend: sim}]}
  - {id: sim-whisper, type: transcription, chain: [{backend: sim}]}
  - {id: sim-tts, type: speech, chain: [{backend: sim}]}
  - {id: sim-moderation, type: moderation, chain: [{backend: sim}]}
  - {id: sim-rerank, type: rerank, chain: [{backend: sim}]}
`

// Setup describes a test gateway.
type Setup struct {
	// Sims names the simulator backends to start; "{{name}}" in YAML becomes its URL.
	Sims []string
	// YAML is gateway.yaml without tenants (added here); empty means DefaultYAML.
	YAML string
	// SimOptions tunes every simulator.
	SimOptions simulator.Options
	// SimStyles sets the tool style of the simulators it names (see Styles).
	SimStyles map[string]simulator.ToolStyle
	// AcmeDefaults is the gateway.yaml level of tenant acme's settings, as a YAML
	// flow map such as "{billing.markup_percent: 10}".
	AcmeDefaults string
	// Env adds process environment (e.g. SPASS_* settings) seen by the gateway.
	Env map[string]string
	// Routing is the routing: section; empty means 2s timeouts and a breaker
	// that opens after 3 failures and stays open for the test.
	Routing string
	// Server is the server: section (connection and body limits). When set, the
	// gateway is served by the production server loop (web.ServeWith with the app's
	// limits) on a real listener instead of httptest's.
	Server string
	// Jobs runs the background jobs as the gateway does (shim.StartJobs): the
	// in-process runner and its scheduler, or the asynq workers with REDIS_URL
	// and SPASS_WORKERS=inprocess in Env.
	Jobs bool
	// Log receives the gateway's request lines and server events; nil formats them
	// and drops them, so a failing test's output is not buried under them.
	Log *slog.Logger
}

// Env is a running test gateway.
type Env struct {
	URL string // the gateway's base URL, without /v1
	// App is the in-process gateway; nil for a bundle (StartBundle), whose
	// functions each open their own.
	App  *app.App
	Sims map[string]*simulator.Server
	// SimURLs maps a simulator's name to its base URL.
	SimURLs map[string]string
	// DatabaseURL is a bundle's PostgreSQL database; "" in-process.
	DatabaseURL string

	answers  *answers       // every response the gateway sent
	stop     func()         // stops a bundle's functions
	db       *store.DB      // a bundle's database
	buffered *http.ServeMux // a bundle's HTTP API routes, which buffer
}

// Start runs the gateway described by s until the test ends.
func Start(t testing.TB, s Setup) *Env {
	t.Helper()
	e, path, dir := configure(t, s)
	cfg, err := config.Load(func(k string) string {
		switch k {
		case "SPASS_CONFIG":
			return path
		case "SPASS_DATA_DIR":
			return filepath.Join(dir, "data")
		}
		return s.Env[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.App = a
	a.Log = s.Log
	if a.Log == nil {
		a.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	h := e.answers.record(functions.Handler(a))
	if s.Server != "" {
		e.URL = serve(t, a, h)
	} else {
		srv := httptest.NewServer(h)
		t.Cleanup(func() { srv.Close(); a.Close() })
		e.URL = srv.URL
	}
	if s.Jobs {
		stop, err := a.StartJobs(context.Background(), func(k string) string { return s.Env[k] })
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(stop) // before the app closes
	}
	return e
}

// configure starts the simulators of s and writes the gateway.yaml that names
// them, with the test tenants and the routing and server sections, into a
// temporary dir. It returns the Env to fill, the file's path and the dir.
func configure(t testing.TB, s Setup) (e *Env, path, dir string) {
	t.Helper()
	if s.YAML == "" {
		s.YAML, s.Sims = DefaultYAML, []string{"sim"}
	}
	e = &Env{Sims: map[string]*simulator.Server{}, SimURLs: map[string]string{}, answers: &answers{}}
	yaml := s.YAML
	for _, name := range s.Sims {
		o := s.SimOptions
		if st, ok := s.SimStyles[name]; ok {
			o.ToolStyle = st
		}
		sim := simulator.New(o)
		srv := httptest.NewServer(sim)
		t.Cleanup(srv.Close)
		e.Sims[name], e.SimURLs[name] = sim, srv.URL
		yaml = strings.ReplaceAll(yaml, "{{"+name+"}}", srv.URL)
	}
	if s.Routing == "" {
		s.Routing = "routing: {first_byte_timeout: 2s, response_timeout: 2s, breaker_failures: 3, breaker_cooldown: 1h}\n"
	}
	yaml += tenantsYAML(s.AcmeDefaults) + s.Routing
	if s.Server != "" {
		yaml += "server: " + s.Server + "\n"
	}
	dir = t.TempDir()
	path = filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return e, path, dir
}

// serve runs the gateway the way shim.Run does, on a loopback port, until the test
// ends, and returns its base URL.
func serve(t testing.TB, a *app.App, h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := web.ServeWith(ctx, ln, h, a.ServerLimits()); err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done; a.Close() })
	return "http://" + ln.Addr().String()
}

func tenantsYAML(acmeDefaults string) string {
	tok := func(name, token, role string) string {
		return "      - {name: " + name + ", sha256: " + auth.Digest(token) + ", role: " + role + "}\n"
	}
	op := func(name, token, role string) string {
		return "  - {name: " + name + ", sha256: " + auth.Digest(token) + ", role: " + role + "}\n"
	}
	if acmeDefaults == "" {
		acmeDefaults = "{}"
	}
	return "tenants:\n  acme:\n    defaults: " + acmeDefaults + "\n    tokens:\n" +
		tok("admin", AdminToken, "admin") + tok("user", UserToken, "user") + tok("ro", ReadOnlyToken, "read-only") +
		"  globex:\n    tokens:\n" + tok("other", OtherToken, "tenant_admin") +
		"operators:\n" + op("ops", OperatorToken, "operator") + op("prometheus", MetricsToken, "metrics")
}

// Request builds an authenticated request with the user header.
func (e *Env) Request(t testing.TB, method, path, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, e.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+AdminToken)
	req.Header.Set(auth.UserHeader, "alice")
	req.Header.Set("Content-Type", "application/json")
	return req
}

// Ledger returns the tenant's ledger rows, oldest first, after committing every
// row recorded so far (the ledger commits in batches, off the request path).
func (e *Env) Ledger(t testing.TB, tenant string) []store.LedgerRow {
	t.Helper()
	if err := e.App.SyncLedger(context.Background()); err != nil {
		t.Fatal(err)
	}
	rows, err := e.App.Store.LedgerRows(context.Background(), tenant, 0, time.Now().Add(time.Hour).UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// Do sends req with a client that has a generous timeout.
func Do(t testing.TB, req *http.Request) *http.Response {
	t.Helper()
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// RunJobs starts the app's in-process job runner (the embedded default, as `make
// run` does) until the test ends, for tests whose requests queue jobs (RAG
// indexing). Without it an enqueue is refused, as under Lambda without Redis.
func (e *Env) RunJobs(t testing.TB) {
	t.Helper()
	stop, err := e.App.StartJobs(context.Background(), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
}
