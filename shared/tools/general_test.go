package tools

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"spass/shared/config"
	"spass/shared/identity"
)

// testPrincipal is an ordinary user of tenant acme.
var testPrincipal = Call{Principal: identity.Principal{Tenant: "acme", Role: identity.RoleUser, User: "u1"}}

// execArgs runs tool through a registry, as the gateway does, so its schema applies.
func execArgs(t *testing.T, tool Tool, args string) (any, error) {
	t.Helper()
	r := NewRegistry()
	if err := r.Add(tool); err != nil {
		t.Fatalf("Add(%s): %v", tool.Name, err)
	}
	return r.Run(context.Background(), testPrincipal, tool.Name, json.RawMessage(args))
}

// mustToolErr fails unless err is a *Error with code.
func mustToolErr(t *testing.T, err error, code string) *Error {
	t.Helper()
	var te *Error
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want a tool error with code %s", err, code)
	}
	if te.Code != code {
		t.Fatalf("code = %s (%q), want %s", te.Code, te.Message, code)
	}
	return te
}

// jsonOf round-trips a result through JSON, the form the model sees.
func jsonOf(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("result does not encode: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("result is not an object: %s", b)
	}
	return m
}

func allGeneral() []Tool {
	cfg := config.Tools{Timeout: config.Duration{Duration: time.Minute}, WebSearchURL: "http://search.invalid/", WikipediaURL: "http://wiki.invalid/w/api.php"}
	return General(cfg, nil, func(context.Context, identity.Principal) (any, error) { return []string{}, nil })
}

func TestGeneral(t *testing.T) {
	t.Run("all eight in a stable order when configured", func(t *testing.T) {
		var got []string
		for _, tl := range allGeneral() {
			got = append(got, tl.Name)
		}
		want := "datetime calculator unit_convert web_search web_fetch wikipedia list_models"
		if strings.Join(got, " ") != want {
			t.Fatalf("got %v, want %s", got, want)
		}
	})
	t.Run("unconfigured endpoints are left out", func(t *testing.T) {
		var got []string
		for _, tl := range General(config.Tools{}, nil, nil) {
			got = append(got, tl.Name)
		}
		want := "datetime calculator unit_convert web_fetch list_models"
		if strings.Join(got, " ") != want {
			t.Fatalf("got %v, want %s", got, want)
		}
	})
	t.Run("schemas compile, are closed objects and tools have descriptions", func(t *testing.T) {
		r := NewRegistry()
		for _, tl := range allGeneral() {
			if err := r.Add(tl); err != nil {
				t.Fatal(err)
			}
			var s struct {
				Type  string `json:"type"`
				Extra *bool  `json:"additionalProperties"`
			}
			if err := json.Unmarshal(tl.Parameters, &s); err != nil || s.Type != "object" || s.Extra == nil || *s.Extra {
				t.Errorf("%s: schema must be an object with additionalProperties false: %s", tl.Name, tl.Parameters)
			}
			if len(tl.Description) < 40 {
				t.Errorf("%s: description too thin for a model: %q", tl.Name, tl.Description)
			}
		}
	})
	t.Run("every tool runs under the configured timeout", func(t *testing.T) {
		var hadDeadline bool
		list := func(ctx context.Context, _ identity.Principal) (any, error) {
			_, hadDeadline = ctx.Deadline()
			return []string{"m"}, nil
		}
		tl := General(config.Tools{Timeout: config.Duration{Duration: time.Minute}}, nil, list)
		for _, x := range tl {
			if x.Name == "list_models" {
				if _, err := execArgs(t, x, `{}`); err != nil {
					t.Fatal(err)
				}
			}
		}
		if !hadDeadline {
			t.Fatal("list_models ran without a deadline")
		}
	})
}

// TestRegistryRejectsBadArguments checks, for every tool, that arguments the schema
// refuses come back as invalid_arguments and Execute never runs.
func TestRegistryRejectsBadArguments(t *testing.T) {
	bad := map[string][]string{
		"datetime":     {`{"timezone": 5}`, `{"format": "iso"}`, `{"timezone": "Europe/Berlin; rm -rf"}`, `{"time": "yesterday"}`},
		"calculator":   {`{}`, `{"expression": ""}`, `{"expression": 42}`, `{"expression": "` + strings.Repeat("1+", 600) + `1"}`},
		"unit_convert": {`{"value": "3", "from": "m", "to": "ft"}`, `{"value": 3, "from": "m"}`, `{"value": 3, "from": "", "to": "ft"}`},
		"web_search":   {`{}`, `{"query": ""}`, `{"query": "go", "max_results": 11}`, `{"query": "go", "categories": ["porn"]}`, `{"query": "go", "language": "english!"}`},
		"web_fetch":    {`{}`, `{"url": "example.com"}`, `{"url": "http://example.com/", "max_chars": 10}`, `{"url": "http://x/` + strings.Repeat("a", 2100) + `"}`},
		"wikipedia":    {`{}`, `{"query": "go", "limit": 0}`, `{"query": "go", "limit": 6}`},
		"list_models":  {`{"tenant": "other"}`},
	}
	for _, tl := range allGeneral() {
		cases := append(bad[tl.Name], `{"unexpected": true}`, `[1, 2]`, `{"a":`)
		if len(bad[tl.Name]) == 0 {
			t.Errorf("%s: no bad-argument cases", tl.Name)
		}
		called := false
		tl.Execute = func(context.Context, Call, json.RawMessage) (any, error) {
			called = true
			return nil, nil
		}
		for _, args := range cases {
			_, err := execArgs(t, tl, args)
			mustToolErr(t, err, "invalid_arguments")
			if called {
				t.Fatalf("%s: Execute ran on %s", tl.Name, args)
			}
		}
	}
}
