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
)

// StartBundle runs the gateway described by s the way AWS Lambda runs it, on
// PostgreSQL, until the test ends: the simulators and gateway.yaml of Start, every
// endpoint group's real bootstrap under local/lambda's Runtime API emulator, routed
// as template.yaml exposes them (see lambda.BundleRoutes), with SPASS_CONFIG naming
// that gateway.yaml, DATABASE_URL a database of its own (pgtest), and s.Env. Each
// function instance opens its own app, so Env.App is nil: read the ledger with
// CheckLedger. A bundle has no host, so s.Jobs and s.Server are refused, and the
// functions' logs are shown only when the test fails. Call RemoveBootstraps from
// TestMain.
func StartBundle(t testing.TB, s Setup) *Env {
	t.Helper()
	if s.Jobs || s.Server != "" {
		t.Fatal("StartBundle: Jobs and Server belong to the host; a Lambda bundle has neither")
	}
	root := moduleRoot(t)
	bins := bootstraps(t, root)
	tpl, err := lambda.LoadTemplate(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	routes, err := lambda.BundleRoutes(tpl)
	if err != nil {
		t.Fatal(err)
	}
	e, path, dir := configure(t, s)
	e.DatabaseURL = pgtest.URL(t)
	env := []string{"SPASS_CONFIG=" + path, "SPASS_DATA_DIR=" + filepath.Join(dir, "data"), "DATABASE_URL=" + e.DatabaseURL}
	for k, v := range s.Env {
		env = append(env, k+"="+v)
	}
	slices.Sort(env[3:])
	fns := lambda.BundleFunctions(tpl, bins, env)
	for i := range fns {
		fns[i].Timeout = time.Minute // a stuck function fails the test, not the whole binary's deadline
	}
	logs := &logbuf.Buffer{}
	em, err := lambda.New(fns, routes, logs)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e.answers.record(em))
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

// built holds the bootstraps, built once per test binary through the Makefile's
// build-<LogicalId> targets (from the Go build cache after the first time).
var built struct {
	once sync.Once
	dir  string
	bins map[string]string
	err  error
}

// bootstraps builds every function's bootstrap for this machine, once.
func bootstraps(t testing.TB, root string) map[string]string {
	t.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "spass-bootstraps-"); built.err == nil {
			built.bins, built.err = lambda.Build(context.Background(), root, built.dir, runtime.GOARCH)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bins
}

// Bootstraps returns every function's bootstrap (by LogicalId), built for this
// machine once per test binary, as StartBundle runs them.
func Bootstraps(t testing.TB) map[string]string {
	t.Helper()
	return bootstraps(t, moduleRoot(t))
}

// RemoveBootstraps deletes what StartBundle and Bootstraps built; TestMain calls
// it after m.Run.
func RemoveBootstraps() {
	if built.dir != "" {
		os.RemoveAll(built.dir)
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
