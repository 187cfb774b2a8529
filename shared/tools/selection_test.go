package tools

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func TestSelect(t *testing.T) {
	r := NewRegistry()
	for _, name := range []string{"zeta", "alpha", "mid"} {
		err := r.Add(Tool{Name: name, Parameters: json.RawMessage(`{"type":"object"}`),
			Execute: func(context.Context, Call, json.RawMessage) (any, error) { return nil, nil }})
		if err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, tl := range r.List() {
		got = append(got, tl.Name)
	}
	if g := strings.Join(got, " "); g != "alpha mid zeta" {
		t.Fatalf("List = %s, want alpha mid zeta", g)
	}
	s := r.Select([]uint16{0, 2})
	if len(s.Tools) != 2 || s.Tools[0].Name != "alpha" || s.Tools[1].Name != "zeta" || !s.Has("zeta") || s.Has("mid") {
		t.Fatalf("Select(0, 2) holds %v", s.Tools)
	}
	var defs []map[string]any
	if err := json.Unmarshal([]byte("["+string(s.Definitions())+"]"), &defs); err != nil || len(defs) != 2 {
		t.Fatalf("Definitions = %s (%v)", s.Definitions(), err)
	}
	if r.Select([]uint16{0, 2}) != s {
		t.Error("the same set was built twice")
	}
	if r.Select([]uint16{2}) == s {
		t.Error("another set shares a selection")
	}
}
