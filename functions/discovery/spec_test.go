package discovery_test

import (
	"context"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/getkin/kin-openapi/openapi3"

	"spass/functions"
	"spass/functions/admin"
	"spass/functions/discovery"
	"spass/shared/apierr"
)

// loadSpec builds the document and loads it with kin-openapi.
func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	b, err := discovery.BuildSpec(discovery.SpecFiles(), discovery.CurrentFacts("test"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestSpecIsValidOpenAPI(t *testing.T) {
	doc := loadSpec(t)
	if err := doc.Validate(context.Background(), openapi3.EnableExamplesValidation()); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.0.") || doc.Info.Version != "test" {
		t.Fatalf("openapi %q, info.version %q", doc.OpenAPI, doc.Info.Version)
	}
	if doc.Tags[0].Name != "Chat" || doc.Extensions["x-tag-order"] != nil {
		t.Errorf("tags start with %q; x-tag-order must order them and be removed", doc.Tags[0].Name)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "/" {
		t.Fatalf("servers %v: Swagger UI's Try it out must call the gateway that serves the page", doc.Servers)
	}
}

func TestSpecErrorCodesAreTheCatalog(t *testing.T) {
	doc := loadSpec(t)
	var want, gotCodes []string
	types := map[string]bool{}
	for _, e := range apierr.Catalog() {
		want = append(want, string(e.Code))
		types[e.Type] = true
	}
	for _, v := range doc.Components.Schemas["ErrorCode"].Value.Enum {
		gotCodes = append(gotCodes, v.(string))
	}
	if !slices.Equal(gotCodes, want) {
		t.Errorf("ErrorCode enum %v, want %v", gotCodes, want)
	}
	for _, v := range doc.Components.Schemas["ErrorType"].Value.Enum {
		if !types[v.(string)] {
			t.Errorf("ErrorType %q is no catalog type", v)
		}
		delete(types, v.(string))
	}
	if len(types) > 0 {
		t.Errorf("catalog types missing from ErrorType: %v", types)
	}
	// Every Error<status> response shows each code of its status as an example.
	for _, e := range apierr.Catalog() {
		ref := doc.Components.Responses["Error"+strconv.Itoa(e.Status)]
		if ref == nil {
			continue // a status no route documents, such as 499 (logged only)
		}
		if ref.Value.Content.Get("application/json").Examples[string(e.Code)] == nil {
			t.Errorf("Error%d lacks the example of %s", e.Status, e.Code)
		}
		if !strings.Contains(*ref.Value.Description, "`"+string(e.Code)+"`") {
			t.Errorf("Error%d's description does not name %s", e.Status, e.Code)
		}
	}
}

// TestSpecMatchesMountedRoutes is the contract's completeness check: every route a
// group mounts is documented, and the document lists no route that is not mounted.
func TestSpecMatchesMountedRoutes(t *testing.T) {
	doc := loadSpec(t)
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	mounted := map[string]bool{}
	for _, g := range functions.Groups {
		for _, route := range g.Routes {
			ops, ok := routeOperations(doc, route)
			if !ok {
				t.Errorf("group %s mounts %s, which /openapi.json does not document", g.Name, route)
			}
			for _, op := range ops {
				mounted[op] = true
			}
		}
	}
	for r := range documented {
		if !mounted[r] {
			t.Errorf("/openapi.json documents %s, which no group mounts", r)
		}
	}
}

func TestRouteOperations(t *testing.T) {
	doc := loadSpec(t)
	cases := []struct {
		route string
		want  []string
		ok    bool
	}{
		{"GET /v1/models", []string{"GET /v1/models"}, true},
		{"GET /{$}", []string{"GET /"}, true},
		{"PATCH /v1/models", []string{"PATCH /v1/models"}, false},
		// A method-less pattern serves every method: it stands for each operation
		// the document lists on its path, so each must be exercised.
		{"/v1/images/{id}", []string{"DELETE /v1/images/{id}", "GET /v1/images/{id}", "HEAD /v1/images/{id}"}, true},
		{"/admin/queues/", []string{"GET /admin/queues/"}, true},
		{"/v1/nowhere/{id}", []string{"* /v1/nowhere/{id}"}, false},
	}
	for _, tc := range cases {
		ops, ok := routeOperations(doc, tc.route)
		if !slices.Equal(ops, tc.want) || ok != tc.ok {
			t.Errorf("routeOperations(%q) = %v, %v; want %v, %v", tc.route, ops, ok, tc.want, tc.ok)
		}
	}
}

// TestSpecSecurity checks the auth model: every /v1 route needs the bearer token
// (the document's default), every discovery route is public, and every admin route
// needs an operator's token.
func TestSpecSecurity(t *testing.T) {
	doc := loadSpec(t)
	if len(doc.Security) != 1 || doc.Security[0]["bearerAuth"] == nil {
		t.Fatalf("default security %v", doc.Security)
	}
	public := map[string]bool{}
	for _, r := range discovery.Routes {
		_, path, _ := strings.Cut(r, " ")
		public[specPath(path)] = true
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			open := op.Security != nil && len(*op.Security) == 0
			if strings.HasPrefix(path, "/v1/") && open {
				t.Errorf("%s %s needs a token but is documented as public", method, path)
			}
			if public[path] && !open {
				t.Errorf("%s %s is public but documented as needing a token", method, path)
			}
		}
	}
	for _, r := range admin.Routes {
		ops, _ := routeOperations(doc, r)
		for _, o := range ops {
			method, path, _ := strings.Cut(o, " ")
			op := doc.Paths.Value(path).GetOperation(method)
			if op.Security == nil || len(*op.Security) == 0 || (*op.Security)[0]["operatorAuth"] == nil {
				t.Errorf("%s is for operators but documented with security %v", o, op.Security)
			}
		}
	}
	for _, path := range []string{"/v1/chat/completions", "/v1/embeddings"} {
		op := doc.Paths.Value(path).Post
		if len(op.Parameters) == 0 || op.Parameters[0].Value.Name != "SPASS-User-Id" || !op.Parameters[0].Value.Required {
			t.Errorf("%s must require the SPASS-User-Id header", path)
		}
	}
}

func TestBuildSpecRejectsConflicts(t *testing.T) {
	baseYAML := readAll(t, "base.yaml")
	cases := []struct {
		name, group, want string
	}{
		{"path defined twice", "paths: {/healthz: {get: {responses: {'200': {description: x}}}}}", `path "/healthz" is defined twice`},
		{"schema defined twice", "components: {schemas: {Readiness: {type: object}}}", `components.schemas "Readiness" is defined twice`},
		{"group sets info", "info: {title: mine}", `top-level key "info"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files := fstest.MapFS{
				"base.yaml":      {Data: baseYAML},
				"discovery.yaml": {Data: readAll(t, "discovery.yaml")},
				"zz.yaml":        {Data: []byte(tc.group)},
			}
			_, err := discovery.BuildSpec(files, discovery.CurrentFacts("test"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func readAll(t *testing.T, name string) []byte {
	t.Helper()
	b, err := fs.ReadFile(discovery.SpecFiles(), name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// specPath maps a ServeMux path to the document's: "/{$}" (exactly "/") is "/".
// Wildcards must be single segments ("{name}"), since OpenAPI cannot express
// "{name...}".
func specPath(muxPath string) string {
	if p := strings.ReplaceAll(muxPath, "{$}", ""); p != "" {
		return p
	}
	return "/"
}

// routeOperations maps a mounted ServeMux pattern to the document's operations
// ("METHOD /path", sorted). "METHOD /path" is that one operation. A pattern without
// a method (the handler dispatches the methods itself, as /v1/images/{id} and the
// queue monitor do) is every operation the document lists on its path; when it
// lists none, the result is the one entry "* /path". ok reports whether the
// document documents the route.
func routeOperations(doc *openapi3.T, route string) (ops []string, ok bool) {
	method, path, hasMethod := strings.Cut(route, " ")
	if !hasMethod {
		path = specPath(route)
		if item := doc.Paths.Value(path); item != nil {
			for m := range item.Operations() {
				ops = append(ops, m+" "+path)
			}
		}
		if len(ops) == 0 {
			return []string{"* " + path}, false
		}
		slices.Sort(ops)
		return ops, true
	}
	path = specPath(path)
	item := doc.Paths.Value(path)
	return []string{method + " " + path}, item != nil && item.GetOperation(method) != nil
}
