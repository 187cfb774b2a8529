// Package infra holds the DGX host's deployment files: systemd units, environment
// templates, the Redis and Prometheus configuration. It has only these tests, which
// load the files the way their consumers do.
package infra_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"spass/shared/config"
)

// backendKinds are the local and hosted kinds an env template exists for.
var backendKinds = []string{"vllm", "ollama", "llamacpp", "tgi", "sglang", "localai", "lmstudio", "openai"}

// readEnv parses an EnvironmentFile: KEY=VALUE lines, # comments.
func readEnv(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || !regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`).MatchString(k) {
			t.Fatalf("%s:%d: not KEY=VALUE: %q", path, n, line)
		}
		env[k] = v
	}
	return env
}

// TestEnvTemplates loads gateway.env with each backend template through the
// gateway's own config loader, and checks every variable is documented in docs/.
func TestEnvTemplates(t *testing.T) {
	pages, _ := filepath.Glob("../docs/*.md")
	var docs []byte
	for _, p := range pages {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, b...)
	}
	common := readEnv(t, "env/gateway.env")
	for _, kind := range backendKinds {
		t.Run(kind, func(t *testing.T) {
			env := readEnv(t, filepath.Join("env", "backend-"+kind+".env"))
			for k, v := range common {
				env[k] = v
			}
			for k := range env {
				if !strings.Contains(string(docs), "`"+k+"`") {
					t.Errorf("%s is documented nowhere in docs/", k)
				}
			}
			cfg, err := config.Load(func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Embedded || len(cfg.Backends) != 1 || cfg.Backends[0].Kind != kind || len(cfg.Models) == 0 {
				t.Errorf("backends %+v, models %d", cfg.Backends, len(cfg.Models))
			}
			if cfg.DataDir != "/var/lib/spass" || cfg.RedisURL == "" || len(cfg.Tenants[config.DefaultTenant].Tokens) == 0 {
				t.Errorf("gateway.env not applied: data dir %q, redis %q, tenants %v", cfg.DataDir, cfg.RedisURL, cfg.Tenants)
			}
		})
	}
}

// TestPrometheus checks the scrape config and the alert rules with promtool and runs
// the rules' unit tests (each alert fires on its failure and not on its neighbour).
func TestPrometheus(t *testing.T) {
	promtool := requireTool(t, "promtool", "prometheus")
	for _, args := range [][]string{
		{"check", "config", "--syntax-only", "prometheus.yml"},
		{"check", "rules", "alerts.yml"},
		{"test", "rules", "alerts_test.yml"},
	} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = "prometheus"
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestSystemdUnits verifies the units with systemd-analyze, against stand-in
// executables (the real ones are installed only on the host), and checks that they
// read the env files infra/env provides.
func TestSystemdUnits(t *testing.T) {
	analyze := requireTool(t, "systemd-analyze", "systemd")
	units, _ := filepath.Glob("systemd/*.service")
	if len(units) != 2 {
		t.Fatalf("units %v, want spass-gateway and spass-workers", units)
	}
	dir := t.TempDir()
	exec := regexp.MustCompile(`(?m)^ExecStart=/usr/local/bin/(spass-[a-z]+)$`)
	for _, unit := range units {
		b, err := os.ReadFile(unit)
		if err != nil {
			t.Fatal(err)
		}
		m := exec.FindSubmatch(b)
		if m == nil {
			t.Errorf("%s: no ExecStart=/usr/local/bin/spass-*", unit)
			continue
		}
		stand := filepath.Join(dir, string(m[1]))
		if err := os.WriteFile(stand, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		copied := filepath.Join(dir, filepath.Base(unit))
		os.WriteFile(copied, exec.ReplaceAll(b, []byte("ExecStart="+stand)), 0o644)
		if !strings.Contains(string(b), "EnvironmentFile=/etc/spass/gateway.env") {
			t.Errorf("%s does not read /etc/spass/gateway.env (infra/env/gateway.env)", unit)
		}
		out, err := runTool(analyze, "verify", "--man=no", copied)
		// Units naming redis-server.service (not installed here) only get a warning.
		if err != nil || strings.Contains(out, copied+":") {
			t.Errorf("systemd-analyze verify %s: %v\n%s", unit, err, out)
		}
	}
}

func runTool(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

// requireTool finds a command; CI must have it (.ci/run installs the package).
func requireTool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required in CI (Debian package %s)", name, pkg)
		}
		t.Skipf("%s not installed (apt-get install %s)", name, pkg)
	}
	return path
}

// TestStopTimeoutCoversShutdown checks that systemd waits for the gateway's graceful
// shutdown: TimeoutStopSec must exceed the shutdown_timeout gateway.env sets (and
// the config applies) by the cut requests' grace and the ledger drain, or SIGKILL
// lands while streams are still finishing.
func TestStopTimeoutCoversShutdown(t *testing.T) {
	env := readEnv(t, "env/gateway.env")
	cfg, err := config.Load(func(k string) string {
		if k == "SPASS_DATA_DIR" {
			return t.TempDir()
		}
		return env[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	unit, err := os.ReadFile("systemd/spass-gateway.service")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^TimeoutStopSec=(\S+)$`).FindSubmatch(unit)
	if m == nil {
		t.Fatal("spass-gateway.service sets no TimeoutStopSec")
	}
	stop, err := time.ParseDuration(string(m[1]))
	if err != nil {
		t.Fatalf("TimeoutStopSec=%s: %v", m[1], err)
	}
	if margin := 10 * time.Second; stop < cfg.Server.ShutdownTimeout.Duration+margin {
		t.Errorf("TimeoutStopSec=%v leaves less than %v beyond the shutdown timeout %v", stop, margin, cfg.Server.ShutdownTimeout.Duration)
	}
}
