package tools

import (
	"context"
	"errors"
	"spass/shared/identity"
	"testing"
)

func TestListModels(t *testing.T) {
	var seen identity.Principal
	list := func(_ context.Context, p identity.Principal) (any, error) {
		seen = p
		return map[string]any{"models": []string{"small", "large"}}, nil
	}
	out, err := execArgs(t, ListModels(list), `{}`)
	if err != nil {
		t.Fatal(err)
	}
	if seen != testPrincipal.Principal {
		t.Errorf("list saw %+v, want the caller", seen)
	}
	if m := jsonOf(t, out)["models"].([]any); len(m) != 2 {
		t.Errorf("models = %v", m)
	}

	t.Run("no arguments accepted", func(t *testing.T) {
		_, err := execArgs(t, ListModels(list), `{"tenant": "other"}`)
		mustToolErr(t, err, "invalid_arguments")
	})
	t.Run("no list function", func(t *testing.T) {
		_, err := execArgs(t, ListModels(nil), `{}`)
		mustToolErr(t, err, "not_configured")
	})
	t.Run("a failing list is a tool failure, not its detail", func(t *testing.T) {
		fail := func(context.Context, identity.Principal) (any, error) { return nil, errors.New("db: secret detail") }
		_, err := execArgs(t, ListModels(fail), `{}`)
		mustToolErr(t, err, "tool_failed")
	})
}
