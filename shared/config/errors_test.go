package config_test

import (
	"flag"
	"os"
	"strings"
	"testing"

	"spass/shared/config"
)

// The quick start's errors name the variable to fix, BACKEND_KIND before the rest.
func TestQuickStartErrors(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want string // the error starts with it
	}{
		{"no base URL", map[string]string{"BACKEND_KIND": "vllm"}, "BACKEND_BASE_URL is required with BACKEND_KIND=vllm"},
		{"no base URL, with models", map[string]string{"BACKEND_KIND": "ollama", "MODEL_NAME": "llama3.1"}, "BACKEND_BASE_URL is required with BACKEND_KIND=ollama"},
		{"bad base URL", map[string]string{"BACKEND_KIND": "vllm", "BACKEND_BASE_URL": "127.0.0.1:8000"}, "BACKEND_BASE_URL: need an http(s) URL"},
		{"unknown kind before a bad model list", map[string]string{"BACKEND_KIND": "vlm", "MODEL_NAME": ","}, `BACKEND_KIND: unknown kind "vlm"`},
		{"unknown kind before a missing URL", map[string]string{"BACKEND_KIND": "olama"}, `BACKEND_KIND: unknown kind "olama"`},
		{"model without kind", map[string]string{"MODEL_NAME": "llama3.1"}, "MODEL_NAME is set but BACKEND_KIND is not"},
		{"base URL without kind", map[string]string{"BACKEND_BASE_URL": "http://127.0.0.1:8000"}, "BACKEND_BASE_URL is set but BACKEND_KIND is not"},
		{"empty model list", map[string]string{"BACKEND_KIND": "vllm", "BACKEND_BASE_URL": "http://127.0.0.1:8000", "MODEL_NAME": " , "}, "MODEL_NAME: no model id"},
		{"bad log format", map[string]string{"SPASS_LOG_FORMAT": "xml"}, `SPASS_LOG_FORMAT: "xml" is not text or json`},
		{"bad log level", map[string]string{"SPASS_LOG_LEVEL": "loud"}, `SPASS_LOG_LEVEL: "loud" is not debug, info, warn or error`},
		{"bad shutdown timeout", map[string]string{"SPASS_SHUTDOWN_TIMEOUT": "soon"}, "SPASS_SHUTDOWN_TIMEOUT: need a positive duration"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := config.Load(env(c.env))
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("error %v, want one starting %q", err, c.want)
			}
			if strings.Contains(err.Error(), "backends[") {
				t.Errorf("the error names the file's key, not the variable: %v", err)
			}
		})
	}
	t.Run("a cloud preset needs no base URL", func(t *testing.T) {
		c, err := config.Load(env(map[string]string{"BACKEND_KIND": "openrouter", "MODEL_NAME": "m"}))
		if err != nil || c.Backends[0].BaseURL == "" {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("log settings from the file, the environment over them", func(t *testing.T) {
		path := writeFile(t, "log: {format: json, level: warn}\nserver: {shutdown_timeout: 5s}\n")
		c, err := config.Load(env(map[string]string{"SPASS_CONFIG": path, "SPASS_LOG_LEVEL": "debug"}))
		if err != nil {
			t.Fatal(err)
		}
		if c.Log.Format != "json" || c.Log.Level != "debug" || c.Server.ShutdownTimeout.Seconds() != 5 {
			t.Errorf("log %+v, shutdown %v", c.Log, c.Server.ShutdownTimeout)
		}
		path = writeFile(t, "log: {format: yaml}\n")
		if _, err := config.Load(env(map[string]string{"SPASS_CONFIG": path})); err == nil || !strings.HasPrefix(err.Error(), "log.format:") {
			t.Errorf("error %v, want one naming log.format", err)
		}
	})
}

// Every variable a binary's -h lists is documented in docs/configuration.md.
func TestVariablesDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range config.Variables {
		if !strings.Contains(string(doc), "`"+v.Name+"`") {
			t.Errorf("%s is not in docs/configuration.md's table", v.Name)
		}
	}
}

// A binary's -h lists its flags and its variables, and reports help so it exits 0.
func TestParseFlagsHelp(t *testing.T) {
	var out strings.Builder
	fs := flag.NewFlagSet("/tmp/go-build/exe/spass-gateway", flag.ContinueOnError)
	fs.Int("n", 1, "how many")
	help, err := config.ParseFlags(fs, "spass-gateway: the gateway.", config.Variables, []string{"-h"}, &out)
	if !help || err == nil {
		t.Fatalf("help %v, err %v", help, err)
	}
	for _, want := range []string{"spass-gateway: the gateway.", "Usage: spass-gateway [flags]", "-n int", "Environment:", "BACKEND_KIND", "SPASS_ADDR", "SPASS_SHUTDOWN_TIMEOUT"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("-h lacks %q:\n%s", want, out.String())
		}
	}
	if help, err := config.ParseFlags(flag.NewFlagSet("x", flag.ContinueOnError), "", nil, []string{"serve"}, &out); help || err == nil {
		t.Errorf("a stray argument: help %v, err %v", help, err)
	}
}
