package gatewaytest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"spass/local/lambda"
	"spass/local/logbuf"
	"spass/local/pgtest"
	"spass/shared/store"
)

// StartBundle runs the gateway described by s the way AWS Lambda runs it, on
// PostgreSQL, until the test ends: the simulators and gateway.yaml of Start, every
// endpoint group's real bootstrap under local/lambda's Runtime API emulator, routed
// as template.yaml exposes them (see lambda.BundleRoutes), with SPASS_CONFIG naming
// that gateway.yaml, DATABASE_URL a database of its own (pgtest), and s.Env. Each
// sandbox keeps its data dir in its own /tmp, as on AWS. Each function instance
// opens its own app, so Env.App is nil: read the ledger with CheckLedger. A bundle
// has no host, so s.Jobs and s.Server are refused, and the functions' logs are
// shown only when the test fails. ChatFunction's bootstrap, which every suite
// reaches, is built before StartBundle returns; another function's when it gets its
// first request; each once per test binary: call RemoveBootstraps from TestMain.
func StartBundle(t testing.TB, s Setup) *Env {
	t.Helper()
	if s.Jobs || s.Server != "" {
		t.Fatal("StartBundle: Jobs and Server belong to the host; a Lambda bundle has neither")
	}
	root := moduleRoot(t)
	tpl, err := lambda.LoadTemplate(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	routes, err := lambda.BundleRoutes(tpl)
	if err != nil {
		t.Fatal(err)
	}
	dir := buildDir(t)
	bins := map[string]string{}
	for _, spec := range lambda.Functions {
		bins[spec.LogicalID] = lambda.BootstrapPath(dir, spec)
	}
	// Built here, not in the first request: on a cold build cache the build
	// outlasts an SDK's request timeout.
	if _, err := bootstrap(root, lambda.Functions[0]); err != nil { // ChatFunction
		t.Fatal(err)
	}
	e, path, _ := configure(t, s)
	e.DatabaseURL = pgtest.URL(t)
	e.db = openStore(t, e.DatabaseURL)
	e.answers.rows = func(id string) int { return committedRows(t, e.db, id) }
	env := []string{"SPASS_CONFIG=" + path, "DATABASE_URL=" + e.DatabaseURL}
	for k, v := range s.Env {
		env = append(env, k+"="+v)
	}
	slices.Sort(env[2:])
	fns := lambda.BundleFunctions(tpl, bins, env)
	for i := range fns {
		fns[i].Timeout = time.Minute // a stuck function fails the test, not the whole binary's deadline
	}
	logs := &logbuf.Buffer{}
	em, err := lambda.New(fns, routes, logs)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e.answers.record(building(t, root, routes, em)))
	e.URL = srv.URL
	e.stop = func() { em.Close() }
	e.buffered = http.NewServeMux()
	for _, r := range routes {
		if !r.URL {
			e.buffered.Handle(r.Pattern, http.NotFoundHandler())
		}
	}
	t.Cleanup(func() {
		em.Close() // first: killing the functions ends any response still relayed
		srv.Close()
		if t.Failed() {
			t.Logf("the functions' log:\n%s", logs)
		}
	})
	return e
}

// openStore opens a bundle's database, migrating it before any function starts,
// until the test ends.
func openStore(t testing.TB, dsn string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() }) // before pgtest drops the database
	return db
}

// committedRows counts the committed ledger rows of a request id in the test
// tenants.
func committedRows(t testing.TB, db *store.DB, id string) int {
	n := 0
	for _, tenant := range []string{Tenant, OtherTenant} {
		rows, err := db.LedgerByRequest(context.Background(), tenant, id)
		if err != nil {
			t.Errorf("ledger rows of %s: %v", id, err)
		}
		for _, r := range rows {
			if r.RequestID == id {
				n++
			}
		}
	}
	return n
}

// building builds the bootstrap of each request's function before h invokes it,
// so that a test builds only the functions it reaches: about two seconds each
// from the Go build cache.
func building(t testing.TB, root string, routes []lambda.Route, h http.Handler) http.Handler {
	mux := http.NewServeMux()
	for _, r := range routes {
		mux.Handle(r.Pattern, http.NotFoundHandler())
	}
	fn := map[string]lambda.FunctionSpec{}
	for _, r := range routes {
		for _, spec := range lambda.Functions {
			if spec.LogicalID == r.Function {
				fn[r.Pattern] = spec
			}
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			if _, err := bootstrap(root, fn[pattern]); err != nil {
				t.Errorf("%s %s: %v", r.Method, r.URL.Path, err)
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// builds are the bootstraps built in this test binary, each once, under one
// temporary dir that RemoveBootstraps deletes.
var builds struct {
	mu   sync.Mutex
	dir  string
	err  error
	once map[string]*built
}

// built is one function's build.
type built struct {
	once sync.Once
	path string
	err  error
}

// buildDir is where this test binary builds its bootstraps.
func buildDir(t testing.TB) string {
	t.Helper()
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if builds.dir == "" && builds.err == nil {
		builds.dir, builds.err = os.MkdirTemp("", "spass-bootstraps-")
		builds.once = map[string]*built{}
	}
	if builds.err != nil {
		t.Fatal(builds.err)
	}
	return builds.dir
}

// bootstrap builds the bootstrap of spec for this machine, the first time it is
// asked for, into the dir of buildDir.
func bootstrap(root string, spec lambda.FunctionSpec) (string, error) {
	builds.mu.Lock()
	b := builds.once[spec.LogicalID]
	if b == nil {
		b = &built{}
		builds.once[spec.LogicalID] = b
	}
	dir := builds.dir
	builds.mu.Unlock()
	b.once.Do(func() {
		b.path, b.err = lambda.BuildFunction(context.Background(), root, dir, runtime.GOARCH, spec)
	})
	return b.path, b.err
}

// Bootstraps returns every function's bootstrap (by LogicalId), built for this
// machine once per test binary, as StartBundle runs them. The first is built
// alone, so that the others share its compiled packages, then the rest in
// parallel.
func Bootstraps(t testing.TB) map[string]string {
	t.Helper()
	root := moduleRoot(t)
	buildDir(t)
	paths := make([]string, len(lambda.Functions))
	errs := make([]error, len(lambda.Functions))
	var wg sync.WaitGroup
	for i, spec := range lambda.Functions {
		wg.Go(func() { paths[i], errs[i] = bootstrap(root, spec) })
		if i == 0 {
			wg.Wait()
		}
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	bins := map[string]string{}
	for i, spec := range lambda.Functions {
		bins[spec.LogicalID] = paths[i]
	}
	return bins
}

// RemoveBootstraps deletes what StartBundle and Bootstraps built; TestMain calls
// it after m.Run.
func RemoveBootstraps() {
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if builds.dir != "" {
		os.RemoveAll(builds.dir)
	}
}

// moduleRoot is the directory of go.mod (and the Makefile and template.yaml),
// found upwards from the test's working directory, its package's.
func moduleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		} else if !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}
