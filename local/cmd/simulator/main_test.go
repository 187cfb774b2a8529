package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"spass/local/simulator"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestParseConfig(t *testing.T) {
	addr, opts, err := parseConfig(
		[]string{"simulator", "-fault", "429", "-models", "a, b,,"},
		env(map[string]string{"SIM_ADDR": ":1234", "SIM_FAULT": "down", "SIM_TOKEN_DELAY": "20ms", "SIM_API_KEY": "k", "SIM_TOOL_STYLE": "hermes"}),
		io.Discard,
	)
	if err != nil {
		t.Fatal(err)
	}
	if addr != ":1234" || opts.Fault != simulator.Fault429 || opts.TokenDelay != 20*time.Millisecond ||
		opts.APIKey != "k" || strings.Join(opts.Models, "|") != "a|b" || opts.ToolStyle != simulator.StyleHermes {
		t.Errorf("got %q %+v; want flags to override the environment, which fills the rest", addr, opts)
	}

	for _, args := range [][]string{
		{"simulator", "-fault", "boom"},
		{"simulator", "-tool-style", "pythonic"},
		{"simulator", "-token-delay", "soon"},
		{"simulator", "-token-delay", "-1s"},
		{"simulator", "-nope"},
	} {
		if _, _, err := parseConfig(args, env(nil), io.Discard); err == nil {
			t.Errorf("parseConfig(%q) accepted bad input", args)
		}
	}
}

func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, stdout := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"simulator", "-addr", "127.0.0.1:0"}, env(nil), stdout)
		stdout.Close()
	}()

	lines := bufio.NewScanner(out)
	if !lines.Scan() {
		t.Fatalf("no startup line: %v", <-done)
	}
	go io.Copy(io.Discard, out) // let run write its goodbye
	_, rest, ok := strings.Cut(lines.Text(), "http://")
	addr, _, _ := strings.Cut(rest, " ")
	if !ok || addr == "" {
		t.Fatalf("startup line %q has no address", lines.Text())
	}

	resp, err := http.Get("http://" + addr + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /health = %d", resp.StatusCode)
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("run returned %v after shutdown", err)
	}
}
