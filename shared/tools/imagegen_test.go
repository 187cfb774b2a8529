package tools_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"spass/shared/apierr"
	"spass/shared/tools"
)

func imageRegistry(t *testing.T, gen tools.ImageGenerator) *tools.Registry {
	t.Helper()
	reg := tools.NewRegistry()
	if err := reg.Add(tools.ImageGen(gen)); err != nil {
		t.Fatal(err)
	}
	return reg
}

func TestImageGenReturnsReferences(t *testing.T) {
	type call struct {
		p            tools.Call
		prompt, size string
		n            int
	}
	var got []call
	reg := imageRegistry(t, func(_ context.Context, p tools.Call, prompt, size string, n int) ([]tools.ImageRef, error) {
		got = append(got, call{p, prompt, size, n})
		refs := make([]tools.ImageRef, n)
		for i := range refs {
			refs[i] = tools.ImageRef{ID: "img_" + string(rune('a'+i)), URL: "/v1/images/img_" + string(rune('a'+i))}
		}
		return refs, nil
	})
	out, err := reg.Run(context.Background(), tools.Call{Principal: alice}, "image_gen", json.RawMessage(`{"prompt": "a red fox", "n": 2, "size": "512x512"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(out)
	if string(b) != `{"images":[{"id":"img_a","url":"/v1/images/img_a"},{"id":"img_b","url":"/v1/images/img_b"}]}` {
		t.Fatalf("result %s", b)
	}
	if _, err := reg.Run(context.Background(), tools.Call{Principal: alice}, "image_gen", json.RawMessage(`{"prompt": "a cat"}`)); err != nil {
		t.Fatal(err)
	}
	want := []call{{tools.Call{Principal: alice}, "a red fox", "512x512", 2}, {tools.Call{Principal: alice}, "a cat", "", 1}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("generator saw %+v, want %+v", got, want)
	}
}

func TestImageGenRefuses(t *testing.T) {
	called := false
	reg := imageRegistry(t, func(context.Context, tools.Call, string, string, int) ([]tools.ImageRef, error) {
		called = true
		return nil, nil
	})
	for _, args := range []string{
		`{}`, `{"prompt": ""}`, `{"prompt": "x", "n": 5}`, `{"prompt": "x", "n": 0}`,
		`{"prompt": "x", "size": "big"}`, `{"prompt": "x", "response_format": "url"}`,
		`{"prompt": "` + strings.Repeat("x", 4001) + `"}`,
	} {
		_, err := reg.Run(context.Background(), tools.Call{Principal: alice}, "image_gen", json.RawMessage(args))
		wantToolError(t, err, "invalid_arguments")
	}
	_, err := reg.Run(context.Background(), tools.Call{Principal: readOnly}, "image_gen", json.RawMessage(`{"prompt": "x"}`))
	wantToolError(t, err, "not_permitted")
	if called {
		t.Fatal("the generator ran on refused arguments")
	}
}

func TestImageGenReportsPipelineErrors(t *testing.T) {
	for _, c := range []struct {
		err  error
		code string
		msg  string
	}{
		{apierr.P(apierr.InvalidRequest, "size", "size must be WIDTHxHEIGHT with sides from 16 to 4096."), "invalid_arguments", "sides from 16"},
		{apierr.E(apierr.CapabilityMissing, "No backend serving sim-chat supports images.", nil), "image_failed", "supports images"},
		{apierr.E(apierr.UpstreamUnavailable, "", errors.New("dial tcp: secret.internal:443 refused")), "image_failed", "No backend for this model is reachable"},
		{errors.New("disk full at /var/lib/spass"), "tool_failed", "image_gen failed"},
	} {
		reg := imageRegistry(t, func(context.Context, tools.Call, string, string, int) ([]tools.ImageRef, error) {
			return nil, c.err
		})
		_, err := reg.Run(context.Background(), tools.Call{Principal: alice}, "image_gen", json.RawMessage(`{"prompt": "x"}`))
		var te *tools.Error
		if !errors.As(err, &te) || te.Code != c.code || !strings.Contains(te.Message, c.msg) || strings.Contains(te.Message, "secret") || strings.Contains(te.Message, "/var/lib") {
			t.Errorf("%v: got %v, want %s containing %q and no cause", c.err, err, c.code, c.msg)
		}
	}
}
