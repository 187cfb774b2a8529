package docsite

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// navFile names the navigation file beside the markdown pages.
const navFile = "nav.yaml"

// section is one group of the sidebar.
type section struct {
	Title string
	Pages []*page
}

// navEntry is one item of nav.yaml.
type navEntry struct {
	Section string   `yaml:"section"`
	Pages   []string `yaml:"pages"`
}

// pageNames lists the markdown files present in docs, without ".md", sorted.
func pageNames(docs fs.FS) ([]string, error) {
	matches, err := fs.Glob(docs, "*.md")
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(matches))
	for _, m := range matches {
		names = append(names, strings.TrimSuffix(path.Base(m), ".md"))
	}
	slices.Sort(names)
	return names, nil
}

// buildNav orders the rendered pages by nav.yaml. Listed pages whose file is absent
// are skipped, so the nav only ever links pages that exist; pages nav.yaml does not
// list go to a last "More" section rather than disappearing.
func buildNav(docs fs.FS, pages map[string]*page) ([]section, error) {
	var entries []navEntry
	b, err := fs.ReadFile(docs, navFile)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&entries); err != nil {
		return nil, fmt.Errorf("%s: %w", navFile, err)
	}
	listed := map[string]bool{}
	var nav []section
	for _, e := range entries {
		s := section{Title: e.Section}
		for _, name := range e.Pages {
			if listed[name] {
				return nil, fmt.Errorf("%s: page %q listed twice", navFile, name)
			}
			listed[name] = true
			if p, ok := pages[name]; ok {
				s.Pages = append(s.Pages, p)
			}
		}
		if len(s.Pages) > 0 {
			nav = append(nav, s)
		}
	}
	more := section{Title: "More"}
	for _, name := range sortedKeys(pages) {
		if !listed[name] {
			more.Pages = append(more.Pages, pages[name])
		}
	}
	if len(more.Pages) > 0 {
		nav = append(nav, more)
	}
	return nav, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
