package app

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayering keeps the layers DESIGN.md draws: the chat core knows no HTTP
// package, the store depends only on domain packages, metrics on nothing of ours.
func TestLayering(t *testing.T) {
	for pkg, rule := range map[string]func(dep string) bool{
		"spass/shared/chat":    func(dep string) bool { return dep != "spass/shared/web" && !strings.HasPrefix(dep, "spass/functions") },
		"spass/shared/store":   func(dep string) bool { return inDomain(dep) },
		"spass/shared/metrics": func(dep string) bool { return !strings.HasPrefix(dep, "spass/") },
		"spass/shared/jobs":    func(dep string) bool { return dep != "spass/shared/web" && !strings.HasPrefix(dep, "spass/local") },
	} {
		out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if strings.HasPrefix(dep, "spass/") && !rule(dep) {
				t.Errorf("%s imports %s", pkg, dep)
			}
		}
	}
}

// inDomain reports whether dep is a domain package: types with no I/O.
func inDomain(dep string) bool {
	switch dep {
	case "spass/shared/agent", "spass/shared/batch", "spass/shared/conversation", "spass/shared/ragdoc", "spass/shared/media", "spass/shared/memory", "spass/shared/identity",
		"spass/shared/response":
		return true
	}
	return !strings.HasPrefix(dep, "spass/")
}
