package agent

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// LoadDir reads every *.yaml and *.yml file of dir as one agent, strictly:
// unknown keys, invalid values and tools that are not stack tools (known reports
// which are) are errors naming the file and the key. Two files may not define the
// same name for the same tenant. An empty dir loads nothing.
func LoadDir(dir string, known func(tool string) bool) ([]Agent, error) {
	if dir == "" {
		return nil, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("agents dir: %w", err)
	}
	var out []Agent
	seen := map[string]string{}
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		a, err := Parse(b)
		if err == nil {
			err = CheckTools(a, known)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		key := a.Tenant + "/" + a.Name
		if other, dup := seen[key]; dup {
			return nil, fmt.Errorf("%s: name: agent %q is also defined in %s", path, a.Name, other)
		}
		seen[key] = path
		a.Source = "file"
		out = append(out, a)
	}
	slices.SortFunc(out, func(x, y Agent) int { return strings.Compare(x.Name, y.Name) })
	return out, nil
}

// CheckTools refuses tools that are not stack tools.
func CheckTools(a Agent, known func(string) bool) error {
	if known == nil {
		return nil
	}
	var bad []string
	for _, t := range a.Tools {
		if !known(t) {
			bad = append(bad, t)
		}
	}
	if len(bad) > 0 {
		return &FieldError{Key: "tools", Problem: "not stack tools: " + strings.Join(bad, ", ") + " (GET /v1/tools lists them)"}
	}
	return nil
}

// ErrNotFound is returned by lookups of an agent a tenant cannot see.
var ErrNotFound = errors.New("agent not found")
