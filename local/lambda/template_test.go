package lambda_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"spass/functions"
	"spass/local/lambda"
	"spass/shared/app"
	"spass/shared/config"
)

// root is the module root, where template.yaml and the Makefile are.
const root = "../.."

func loadTemplate(t *testing.T) *lambda.Template {
	t.Helper()
	tpl, err := lambda.LoadTemplate(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

// TestTemplateMatchesSAMSchema validates template.yaml against the SAM schema in
// ../shared/reference (required in CI, skipped elsewhere when absent).
func TestTemplateMatchesSAMSchema(t *testing.T) {
	schema := samSchema(t)
	tpl := loadTemplate(t)
	if err := schema.Validate(tpl.Doc); err != nil {
		t.Fatalf("template.yaml does not match the SAM schema: %v", err)
	}
	// The schema must be able to say no, or the check above proves nothing.
	broken := copyDoc(t, tpl.Doc)
	broken["Resources"].(map[string]any)["ChatFunction"].(map[string]any)["Properties"].(map[string]any)["Handlr"] = "bootstrap"
	if err := schema.Validate(broken); err == nil {
		t.Fatal("the schema accepts a function property typo (Handlr)")
	}
}

// samSchema finds and compiles sam.schema.json.
func samSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	path, err := findReference("sam.schema.json")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the SAM schema is required in CI: %v", err)
		}
		t.Skipf("SAM schema not available: %v", err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.UseRegexpEngine(samRegexp)
	if err := c.AddResource("sam.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("sam.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// findReference looks for shared/reference/<name> in the working directory and its
// parents (the notes folder beside the checkout).
func findReference(name string) (string, error) {
	dir, err := filepath.Abs(".")
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "shared", "reference", name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New(name + " not found in shared/reference above the working directory")
		}
		dir = parent
	}
}

// samRegexp compiles the schema's patterns with Go's regexp, plus the one form RE2
// lacks that the SAM schema uses: a leading negative lookahead of a literal,
// ^(?!AWS::Serverless::).+$ ("any resource type not of SAM's own").
func samRegexp(s string) (jsonschema.Regexp, error) {
	if rest, ok := strings.CutPrefix(s, "^(?!"); ok {
		lit, tail, ok := strings.Cut(rest, ")")
		if ok && regexp.QuoteMeta(lit) == lit {
			re, err := regexp.Compile("^" + tail)
			return notPrefixed{src: s, prefix: lit, re: re}, err
		}
	}
	return regexp.Compile(s)
}

type notPrefixed struct {
	src, prefix string
	re          *regexp.Regexp
}

func (n notPrefixed) String() string { return n.src }
func (n notPrefixed) MatchString(s string) bool {
	return !strings.HasPrefix(s, n.prefix) && n.re.MatchString(s)
}

func copyDoc(t *testing.T, doc map[string]any) map[string]any {
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	json.Unmarshal(b, &out)
	return out
}

// TestTemplateFunctions checks what the schema cannot: every group is a function
// running a provided.al2023 bootstrap built by its Makefile target from the group's
// own bootstrap package.
func TestTemplateFunctions(t *testing.T) {
	tpl := loadTemplate(t)
	arch, _ := tpl.Doc["Parameters"].(map[string]any)["Architecture"].(map[string]any)
	if got, _ := json.Marshal(arch["AllowedValues"]); string(got) != `["arm64","x86_64"]` {
		t.Errorf("Architecture parameter allows %s, want arm64 and x86_64", got)
	}
	var specs []string
	for _, spec := range lambda.Functions {
		specs = append(specs, spec.LogicalID)
		fn := tpl.Functions[spec.LogicalID]
		if fn == nil {
			t.Errorf("template.yaml has no function %s (group %s)", spec.LogicalID, spec.Group)
			continue
		}
		props := []struct{ name, got, want string }{
			{"Runtime", fn.String("Runtime"), "provided.al2023"},
			{"Handler", fn.String("Handler"), "bootstrap"},
			{"CodeUri", fn.String("CodeUri"), "."},
			{"Metadata.BuildMethod", str(fn.Metadata["BuildMethod"]), "makefile"},
			{"Architectures", jsonOf(fn.Properties["Architectures"]), `[{"Ref":"Architecture"}]`},
		}
		for _, p := range props {
			if p.got != p.want {
				t.Errorf("%s.%s = %q, want %q", spec.LogicalID, p.name, p.got, p.want)
			}
		}
		if len(spec.Streamed) > 0 && (!fn.Streams() || fn.Int("Timeout") <= 30) {
			t.Errorf("%s streams %v: it needs a RESPONSE_STREAM Function URL and a timeout beyond 30 s", spec.LogicalID, spec.Streamed)
		}
		checkBuildTarget(t, spec)
	}
	for id := range tpl.Functions {
		if !slices.Contains(specs, id) {
			t.Errorf("template.yaml function %s is not in lambda.Functions", id)
		}
	}
	for _, g := range functions.Groups {
		n := 0
		for _, spec := range lambda.Functions {
			if spec.Group == g.Name {
				n++
			}
		}
		if n != 1 {
			t.Errorf("dev shim group %s is run by %d functions in lambda.Functions, want 1", g.Name, n)
		}
	}
}

// checkBuildTarget dry-runs `make build-<LogicalId>` and checks that it builds the
// group's bootstrap package with lambda.norpc into $(ARTIFACTS_DIR)/bootstrap.
func checkBuildTarget(t *testing.T, spec lambda.FunctionSpec) {
	t.Helper()
	out, err := exec.Command("make", "--no-print-directory", "-n", "-C", root, "build-"+spec.LogicalID,
		"ARTIFACTS_DIR=/artifacts", "LAMBDA_ARCH=x86_64").CombinedOutput()
	if err != nil {
		t.Errorf("make -n build-%s: %v\n%s", spec.LogicalID, err, out)
		return
	}
	for _, want := range []string{"GOOS=linux", "-tags lambda.norpc", `-o "/artifacts/bootstrap"`, "./functions/" + spec.Group + "/bootstrap"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("make build-%s does not contain %q:\n%s", spec.LogicalID, want, out)
		}
	}
	src, err := os.ReadFile(filepath.Join(root, "functions", spec.Group, "bootstrap", "main.go"))
	if want := "lambdahttp.Main(" + spec.Group + ".New)"; err != nil || !strings.Contains(string(src), want) {
		t.Errorf("functions/%s/bootstrap/main.go does not call %s: %v", spec.Group, want, err)
	}
}

// TestTemplateRoutes checks that every HttpApi route of the template is mounted by
// the dev shim and belongs to the group its function runs, and that every route of
// every group is reachable on AWS: as an HttpApi route, or, for routes that stream,
// only through the function's Function URL.
func TestTemplateRoutes(t *testing.T) {
	tpl := loadTemplate(t)
	mux := shimMux(t)
	for _, spec := range lambda.Functions {
		fn := tpl.Functions[spec.LogicalID]
		g := groupNamed(t, spec.Group)
		if fn == nil {
			continue // reported by TestTemplateFunctions
		}
		var keys []string
		for _, r := range g.Routes {
			keys = append(keys, lambda.RouteKey(r))
		}
		for _, key := range fn.Routes {
			if !slices.Contains(keys, key) {
				t.Errorf("%s: HttpApi route %q is not a route of group %s %v", spec.LogicalID, key, spec.Group, g.Routes)
			}
			req := sampleRequest(key)
			if _, pattern := mux.Handler(req); lambda.RouteKey(pattern) != key {
				t.Errorf("%s: the dev shim serves %s %s with %q, not %q", spec.LogicalID, req.Method, req.URL.Path, pattern, key)
			}
		}
		for _, r := range spec.AlsoBuffered {
			if !slices.Contains(spec.Streamed, r) || !slices.Contains(fn.Routes, lambda.RouteKey(r)) {
				t.Errorf("%s: AlsoBuffered %q must be a Streamed route and an HttpApi event of the template", spec.LogicalID, r)
			}
		}
		for _, r := range g.Routes {
			declared := slices.Contains(fn.Routes, lambda.RouteKey(r))
			switch streamed := slices.Contains(spec.Streamed, r); {
			case streamed && declared && !slices.Contains(spec.AlsoBuffered, r):
				t.Errorf("%s: %q streams SSE but is an HttpApi route, which buffers; list it in AlsoBuffered if a buffered copy is meant", spec.LogicalID, r)
			case streamed && !fn.Streams():
				t.Errorf("%s: %q streams SSE, but the function has no RESPONSE_STREAM Function URL", spec.LogicalID, r)
			case !streamed && !declared:
				method, path, _ := strings.Cut(lambda.RouteKey(r), " ")
				t.Errorf("%s: route %q of group %s is missing from template.yaml; add to its Events:\n        Name:\n          Type: HttpApi\n          Properties: {Method: %s, Path: %q}",
					spec.LogicalID, r, spec.Group, method, path)
			}
		}
	}
	routes, err := lambda.BundleRoutes(tpl)
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, g := range functions.Groups {
		all = append(all, g.Routes...)
	}
	if len(routes) != len(all) {
		t.Errorf("lambda-local routes %d patterns, the dev shim %d", len(routes), len(all))
	}
	for _, rt := range routes {
		for _, spec := range lambda.Functions {
			if spec.LogicalID == rt.Function && slices.Contains(spec.Streamed, rt.Pattern) && !rt.URL {
				t.Errorf("lambda-local serves the streamed %q buffered", rt.Pattern)
			}
		}
	}
	// The HTTP API alone (sam local start-api) reaches chat, buffered.
	api, err := lambda.HTTPAPIRoutes(tpl)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(api, lambda.Route{Pattern: "POST /v1/chat/completions", Function: "ChatFunction"}) {
		t.Error("the HTTP API has no POST /v1/chat/completions: sam local start-api cannot reach chat")
	}
}

// shimMux is the dev shim's mux over an app on the embedded default.
func shimMux(t *testing.T) *http.ServeMux {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Load(func(k string) string {
		if k == "SPASS_DATA_DIR" {
			return dir
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	mux, ok := functions.Handler(a).(*http.ServeMux)
	if !ok {
		t.Fatal("shim.Handler is no longer a *http.ServeMux; look routes up another way")
	}
	return mux
}

// sampleRequest is a request an HTTP API route key matches: variables get values,
// ANY becomes GET.
func sampleRequest(key string) *http.Request {
	method, path, _ := strings.Cut(key, " ")
	if method == "ANY" {
		method = http.MethodGet
	}
	path = regexp.MustCompile(`\{[^}]+\+\}`).ReplaceAllString(path, "a/b")
	path = regexp.MustCompile(`\{[^}]+\}`).ReplaceAllString(path, "sample")
	return httptest.NewRequest(method, path, nil)
}

func groupNamed(t *testing.T, name string) functions.Group {
	for _, g := range functions.Groups {
		if g.Name == name {
			return g
		}
	}
	t.Fatalf("no dev shim group %q", name)
	return functions.Group{}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
