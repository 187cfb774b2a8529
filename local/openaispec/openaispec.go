// Package openaispec validates JSON documents against the component schemas of
// OpenAI's own OpenAPI 3.1 description of its REST API (openai-openapi.yaml,
// kept in ../shared/reference next to the repository).
//
// Tests use it to prove that what the SPASS gateway emits (chat completions,
// every stream chunk, embeddings, model lists, error bodies, ...) is exactly
// OpenAI-shaped:
//
//	spec := openaispec.ForTest(t)
//	if err := spec.Validate("CreateChatCompletionResponse", body); err != nil {
//		t.Fatal(err)
//	}
//
// The YAML document is parsed once; schemas are compiled lazily, on first use,
// and cached per name. A *Spec is safe for concurrent use.
//
// OpenAPI specifics: OpenAPI 3.1 schemas are JSON Schema 2020-12. The
// OpenAPI-only keywords (discriminator, example, xml, externalDocs, x-*) are
// unknown keywords to 2020-12 and therefore ignored. Format assertions are off
// (format is an annotation in 2020-12), so OpenAPI formats such as "unixtime"
// or "float" neither fail compilation nor validation. The document still
// carries a few constructs that are not valid 2020-12; Load rewrites them,
// keeping their meaning (never loosening a constraint):
//
//   - OpenAPI 3.0 `nullable: true` (112 places, e.g. the chunk's `usage` and
//     `finish_reason`): the schema is widened to also accept null;
//   - OpenAPI 3.0 boolean `exclusiveMinimum: true` + `minimum: m`:
//     `exclusiveMinimum: m`;
//   - 2019-09 `$recursiveAnchor` / `$recursiveRef: "#"` (CompoundFilter): a
//     `$ref` to the enclosing component;
//   - a property listed twice in `required` (ContainerResource): deduplicated.
//
// Keyword locations in errors point into this rewritten document; they match
// the YAML except below a rewritten `nullable` schema (an extra anyOf level).
package openaispec

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"gopkg.in/yaml.v3"
)

// printer renders error messages the way jsonschema does by default.
var printer = message.NewPrinter(language.English)

// FileName is the name of the reference document.
const FileName = "openai-openapi.yaml"

// EnvSpec names the environment variable that, when set, overrides Find.
const EnvSpec = "OPENAI_SPEC"

// resourceURL is the URL under which the whole document is registered with
// the compiler; schemas are compiled as resourceURL#/components/schemas/<Name>.
const resourceURL = "file:///openai-openapi.json"

// Find returns the path of the reference document. If the environment
// variable OPENAI_SPEC is set it must name an existing file. Otherwise Find
// walks up from the current directory and, at every level, looks for
// shared/reference/openai-openapi.yaml, so that from
// /work/main/functions/openai it finds /work/shared/reference/openai-openapi.yaml
// (the reference folder is a sibling of the repository root).
func Find() (string, error) {
	if p := os.Getenv(EnvSpec); p != "" {
		st, err := os.Stat(p)
		if err != nil {
			return "", fmt.Errorf("openaispec: %s=%q: %w", EnvSpec, p, err)
		}
		if st.IsDir() {
			return "", fmt.Errorf("openaispec: %s=%q is a directory", EnvSpec, p)
		}
		return p, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("openaispec: %w", err)
	}
	for dir := wd; ; {
		p := filepath.Join(dir, "shared", "reference", FileName)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", fmt.Errorf("openaispec: %s not found in shared/reference above %s (set %s to its path)", FileName, wd, EnvSpec)
}

// Spec is a loaded OpenAPI document with a lazily filled cache of compiled
// component schemas. It is safe for concurrent use.
type Spec struct {
	path    string
	schemas map[string]bool // names under #/components/schemas

	mu       sync.Mutex // guards compiler and fills cache
	compiler *jsonschema.Compiler
	cache    sync.Map // name -> *compiled
}

type compiled struct {
	schema *jsonschema.Schema
	err    error
}

// Load reads and parses the document at path once and prepares a compiler.
// Schemas are compiled on first use by Validate.
func Load(path string) (*Spec, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("openaispec: %w", err)
	}
	var y any
	if err := yaml.Unmarshal(raw, &y); err != nil {
		return nil, fmt.Errorf("openaispec: parse %s: %w", path, err)
	}
	doc, err := toJSON(y, "")
	if err != nil {
		return nil, fmt.Errorf("openaispec: %s: %w", path, err)
	}
	root, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("openaispec: %s: top level is not a mapping", path)
	}
	comps, _ := root["components"].(map[string]any)
	schemas, _ := comps["schemas"].(map[string]any)
	if len(schemas) == 0 {
		return nil, fmt.Errorf("openaispec: %s has no components.schemas", path)
	}
	names := make(map[string]bool, len(schemas))
	for name := range schemas {
		names[name] = true
	}
	for name, sch := range schemas {
		schemas[name] = rewriteOpenAPI(sch, false, "#/components/schemas/"+escapePointer(name))
	}
	rewriteOpenAPI(root, false, "")

	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	// No c.AssertFormat(): formats stay annotations, so OpenAPI formats such
	// as "unixtime", "float" or "int64" are accepted as they are.
	c.UseLoader(noLoader{})
	if err := c.AddResource(resourceURL, root); err != nil {
		return nil, fmt.Errorf("openaispec: %w", err)
	}
	return &Spec{path: path, schemas: names, compiler: c}, nil
}

// noLoader refuses to fetch anything: every $ref in the document is local.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("openaispec: refusing to load external resource %s", url)
}

// Path returns the file the Spec was loaded from.
func (s *Spec) Path() string { return s.path }

// Has reports whether #/components/schemas/<name> exists.
func (s *Spec) Has(name string) bool { return s.schemas[name] }

// Schemas returns the sorted names of all component schemas.
func (s *Spec) Schemas() []string {
	out := make([]string, 0, len(s.schemas))
	for n := range s.schemas {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Compile compiles (once) and returns #/components/schemas/<name>.
func (s *Spec) Compile(name string) (*jsonschema.Schema, error) {
	if v, ok := s.cache.Load(name); ok {
		c := v.(*compiled)
		return c.schema, c.err
	}
	if !s.schemas[name] {
		return nil, fmt.Errorf("openaispec: no schema #/components/schemas/%s in %s", name, s.path)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.cache.Load(name); ok { // compiled while we waited
		c := v.(*compiled)
		return c.schema, c.err
	}
	sch, err := s.compiler.Compile(resourceURL + "#/components/schemas/" + escapePointer(name))
	if err != nil {
		err = fmt.Errorf("openaispec: compile %s: %w", name, err)
	}
	s.cache.Store(name, &compiled{sch, err})
	return sch, err
}

// Validate checks body, a JSON document, against
// #/components/schemas/<schema>. A body that does not match yields a
// *ValidationError listing every failing instance path.
func (s *Spec) Validate(schema string, body []byte) error {
	sch, err := s.Compile(schema)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("openaispec: %s: body is not valid JSON: %w (body: %s)", schema, err, abbreviate(body))
	}
	return s.validateValue(schema, sch, inst, body)
}

// ValidateValue is Validate for an already decoded JSON value. Numbers must be
// json.Number or Go numeric types; use jsonschema.UnmarshalJSON to decode.
func (s *Spec) ValidateValue(schema string, v any) error {
	sch, err := s.Compile(schema)
	if err != nil {
		return err
	}
	return s.validateValue(schema, sch, v, nil)
}

func (s *Spec) validateValue(schema string, sch *jsonschema.Schema, v any, body []byte) error {
	err := sch.Validate(v)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return fmt.Errorf("openaispec: %s: %w", schema, err)
	}
	out := &ValidationError{Schema: schema, Body: body, Cause: ve}
	collectProblems(ve, &out.Problems)
	return out
}

// Problem is one elementary failure (a leaf of the validation error tree).
type Problem struct {
	// Path is the JSON pointer of the offending value in the body, "" for the
	// whole document.
	Path string
	// Keyword is the schema keyword that failed, as a JSON pointer into the
	// OpenAPI document, e.g. "/components/schemas/Error/required".
	Keyword string
	// Message describes the failure, e.g. "missing property 'message'".
	Message string
}

// ValidationError is returned by Validate when the body does not match.
type ValidationError struct {
	Schema   string    // component schema name
	Problems []Problem // leaves of the error tree, in order
	Body     []byte    // the body validated (nil for ValidateValue)
	Cause    *jsonschema.ValidationError
}

// Paths returns the distinct instance paths of all problems, in order
// ("/" stands for the whole document).
func (e *ValidationError) Paths() []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range e.Problems {
		path := displayPath(p.Path)
		if !seen[path] {
			seen[path] = true
			out = append(out, path)
		}
	}
	return out
}

func (e *ValidationError) Error() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "openaispec: body does not match #/components/schemas/%s (failing at %s):",
		e.Schema, strings.Join(e.Paths(), ", "))
	renderTree(&sb, e.Cause, 1)
	if e.Body != nil {
		fmt.Fprintf(&sb, "\n  body: %s", abbreviate(e.Body))
	}
	return sb.String()
}

func displayPath(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// transparent reports whether an error node only wraps its causes ($ref with a
// single cause, the top-level "validation failed with <url>" node, groups).
func transparent(e *jsonschema.ValidationError) bool {
	switch e.ErrorKind.(type) {
	case *kind.Schema, *kind.Group:
		return len(e.Causes) > 0
	case *kind.Reference:
		return len(e.Causes) == 1
	}
	return false
}

func collectProblems(e *jsonschema.ValidationError, out *[]Problem) {
	if len(e.Causes) == 0 {
		*out = append(*out, Problem{
			Path:    pointer(e.InstanceLocation),
			Keyword: keywordLocation(e),
			Message: e.ErrorKind.LocalizedString(printer),
		})
		return
	}
	for _, c := range e.Causes {
		collectProblems(c, out)
	}
}

func renderTree(sb *strings.Builder, e *jsonschema.ValidationError, depth int) {
	if transparent(e) {
		for _, c := range e.Causes {
			renderTree(sb, c, depth)
		}
		return
	}
	sb.WriteByte('\n')
	sb.WriteString(strings.Repeat("  ", depth))
	fmt.Fprintf(sb, "- at %s: %s", displayPath(pointer(e.InstanceLocation)), e.ErrorKind.LocalizedString(printer))
	if len(e.Causes) == 0 {
		if kw := keywordLocation(e); kw != "" {
			fmt.Fprintf(sb, " [%s]", kw)
		}
	}
	for _, c := range e.Causes {
		renderTree(sb, c, depth+1)
	}
}

func keywordLocation(e *jsonschema.ValidationError) string {
	u := e.SchemaURL
	var kp []string
	if ref, ok := e.ErrorKind.(*kind.Reference); ok {
		u = ref.URL
	} else if e.ErrorKind != nil {
		kp = e.ErrorKind.KeywordPath()
	}
	u = strings.TrimPrefix(u, resourceURL)
	u = strings.TrimPrefix(u, "#")
	return u + pointer(kp)
}

func pointer(tokens []string) string {
	var sb strings.Builder
	for _, t := range tokens {
		sb.WriteByte('/')
		sb.WriteString(escapePointer(t))
	}
	return sb.String()
}

func escapePointer(s string) string {
	s = strings.ReplaceAll(s, "~", "~0")
	return strings.ReplaceAll(s, "/", "~1")
}

func abbreviate(b []byte) string {
	const max = 600
	s := string(bytes.TrimSpace(b))
	if len(s) > max {
		s = s[:max] + fmt.Sprintf("... (%d bytes)", len(b))
	}
	return s
}

var shared struct {
	once sync.Once
	spec *Spec
	err  error // from Find (missing file) or Load
	load bool  // err came from Load, not from Find
}

// ForTest returns a *Spec loaded once and shared across the test binary.
// If the reference document cannot be found, the test is skipped - unless
// the environment variable CI is "true", in which case it fails (conformance
// must not silently vanish in CI). A document that exists but cannot be
// loaded always fails the test.
func ForTest(t testing.TB) *Spec {
	t.Helper()
	shared.once.Do(func() {
		var path string
		path, shared.err = Find()
		if shared.err != nil {
			return
		}
		shared.spec, shared.err = Load(path)
		shared.load = shared.err != nil
	})
	return resolveForTest(t, shared.spec, shared.err, shared.load)
}

// resolveForTest applies ForTest's policy to the outcome of Find and Load.
func resolveForTest(t testing.TB, spec *Spec, err error, loadFailed bool) *Spec {
	t.Helper()
	switch {
	case err == nil:
		return spec
	case loadFailed:
		t.Fatalf("openaispec: loading the OpenAI reference spec: %v", err)
	case os.Getenv("CI") == "true":
		t.Fatalf("openaispec: OpenAI reference spec missing (CI=true, so this is fatal): %v", err)
	default:
		t.Skipf("openaispec: skipping, OpenAI reference spec not available: %v", err)
	}
	return nil
}
