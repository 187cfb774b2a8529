package discovery

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"spass/shared/apierr"
	"spass/shared/tenantcfg"
)

// baseSpec is the file with the document's metadata and shared components; every
// other openapi/*.yaml is one endpoint group's part.
const baseSpec = "base.yaml"

// groupKeys are the top-level keys a group's file may have: its paths and what they
// reference. Everything else (info, servers, security) belongs to base.yaml alone.
var groupKeys = []string{"tags", "paths", "components"}

// Facts are what the document takes from the code rather than from its YAML.
type Facts struct {
	Version  string
	Catalog  []apierr.Entry
	Settings []tenantcfg.Key
}

// CurrentFacts are this build's facts.
func CurrentFacts(version string) Facts {
	return Facts{Version: version, Catalog: apierr.Catalog(), Settings: tenantcfg.Keys}
}

// BuildSpec assembles the OpenAPI document from base.yaml and each group's file in
// files, then fills in what must not drift from the code: the catalog's codes and
// types, the description and examples of every Error<status> response, the tenant
// settings with their types and bounds, the SPASS-Request-Id header on every response
// (the middleware sets it on all), and the build's version.
func BuildSpec(files fs.FS, f Facts) ([]byte, error) {
	doc, err := readYAML(files, baseSpec)
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(files, "*.yaml")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		if name == baseSpec {
			continue
		}
		part, err := readYAML(files, name)
		if err != nil {
			return nil, err
		}
		if err := merge(doc, part); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	orderTags(doc)
	if err := injectCatalog(doc, f.Catalog); err != nil {
		return nil, err
	}
	if err := injectSettings(doc, f.Settings); err != nil {
		return nil, err
	}
	addRequestID(doc)
	obj(doc, "info")["version"] = f.Version
	return json.MarshalIndent(doc, "", "  ")
}

func readYAML(files fs.FS, name string) (map[string]any, error) {
	b, err := fs.ReadFile(files, path.Clean(name))
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := yaml.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// merge adds a group's tags, paths and components to doc; a name defined twice is an
// error, so two groups cannot silently overwrite each other's schema.
func merge(doc, part map[string]any) error {
	for k := range part {
		if !slices.Contains(groupKeys, k) {
			return fmt.Errorf("top-level key %q is not allowed in a group's file (only %v)", k, groupKeys)
		}
	}
	if tags, ok := part["tags"].([]any); ok {
		doc["tags"] = append(list(doc, "tags"), tags...)
	}
	if err := mergeMap(obj(doc, "paths"), obj(part, "paths"), "path"); err != nil {
		return err
	}
	comps := obj(doc, "components")
	for kind, v := range obj(part, "components") {
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("components.%s is not a map", kind)
		}
		if err := mergeMap(obj(comps, kind), m, "components."+kind); err != nil {
			return err
		}
	}
	return nil
}

func mergeMap(dst, src map[string]any, what string) error {
	for k, v := range src {
		if _, dup := dst[k]; dup {
			return fmt.Errorf("%s %q is defined twice", what, k)
		}
		dst[k] = v
	}
	return nil
}

// orderTags sorts the merged tags by base.yaml's x-tag-order, so the reference opens
// with chat rather than with whichever group's file sorts first.
func orderTags(doc map[string]any) {
	order, _ := doc["x-tag-order"].([]any)
	delete(doc, "x-tag-order")
	rank := func(t any) int {
		name, _ := t.(map[string]any)["name"]
		if i := slices.Index(order, name); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortStableFunc(list(doc, "tags"), func(a, b any) int { return rank(a) - rank(b) })
}

var errorResponse = regexp.MustCompile(`^Error(\d{3})$`)

// injectCatalog writes the catalog into the ErrorCode and ErrorType enums and into
// each Error<status> response: a description listing that status's codes and one
// example body per code.
func injectCatalog(doc map[string]any, catalog []apierr.Entry) error {
	schemas := obj(obj(doc, "components"), "schemas")
	var codes, types []any
	for _, e := range catalog {
		codes = append(codes, string(e.Code))
		if !slices.Contains(types, any(e.Type)) {
			types = append(types, e.Type)
		}
	}
	slices.SortFunc(types, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
	for name, enum := range map[string][]any{"ErrorCode": codes, "ErrorType": types} {
		s, err := placeholder(schemas, name)
		if err != nil {
			return err
		}
		s["enum"] = enum
	}
	for name, v := range obj(obj(doc, "components"), "responses") {
		m := errorResponse.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		status, _ := strconv.Atoi(m[1])
		var desc strings.Builder
		examples := map[string]any{}
		for _, e := range catalog {
			if e.Status != status {
				continue
			}
			fmt.Fprintf(&desc, "\n- `%s`: %s %s", e.Code, e.Message, e.Remediation)
			examples[string(e.Code)] = map[string]any{
				"summary": e.Message,
				"value":   map[string]any{"error": map[string]any{"message": e.Message, "type": e.Type, "param": nil, "code": string(e.Code)}},
			}
		}
		if len(examples) == 0 {
			return fmt.Errorf("components.responses.%s: no catalog code has status %d", name, status)
		}
		resp := v.(map[string]any)
		resp["description"] = "An error from the catalog, one of:\n" + desc.String()
		obj(obj(resp, "content"), "application/json")["examples"] = examples
	}
	return nil
}

// injectSettings describes every tenant setting twice: in TenantSettings, the body
// of PUT /v1/tenant/config, with its type, bounds and default; and in
// TenantConfigEntries, the config map GET returns.
func injectSettings(doc map[string]any, keys []tenantcfg.Key) error {
	schemas := obj(obj(doc, "components"), "schemas")
	body, err := placeholder(schemas, "TenantSettings")
	if err != nil {
		return err
	}
	entries, err := placeholder(schemas, "TenantConfigEntries")
	if err != nil {
		return err
	}
	props, entryProps, names := map[string]any{}, map[string]any{}, []any{}
	for _, k := range keys {
		p := map[string]any{"type": string(k.Kind), "description": k.Doc, "default": k.Default}
		switch k.Kind {
		case tenantcfg.Int, tenantcfg.Float:
			p["minimum"], p["maximum"] = k.Min, k.Max
		case tenantcfg.String:
			p["maxLength"] = 256
			if k.Pattern != nil {
				p["pattern"] = k.Pattern.String() + "|^$" // empty means unset
			}
		case tenantcfg.Strings:
			p["maxItems"] = 1000
			p["items"] = map[string]any{"type": "string", "minLength": 1, "maxLength": 256}
		}
		props[k.Name] = p
		entryProps[k.Name] = map[string]any{"$ref": "#/components/schemas/TenantSetting"}
		names = append(names, k.Name)
	}
	body["properties"], body["additionalProperties"], body["minProperties"] = props, false, 1
	entries["properties"], entries["required"] = entryProps, names
	return nil
}

// placeholder returns the schema the YAML marked x-spass-generated, unmarked; a
// missing mark means the YAML and this code disagree about what is generated.
func placeholder(schemas map[string]any, name string) (map[string]any, error) {
	s := obj(schemas, name)
	if _, ok := s["x-spass-generated"]; !ok {
		return nil, fmt.Errorf("components.schemas.%s must carry x-spass-generated", name)
	}
	delete(s, "x-spass-generated")
	return s, nil
}

// addRequestID documents SPASS-Request-Id on every inline response; responses that
// are $refs get it through their component.
func addRequestID(doc map[string]any) {
	add := func(resp map[string]any) {
		if _, isRef := resp["$ref"]; !isRef {
			obj(resp, "headers")["SPASS-Request-Id"] = map[string]any{"$ref": "#/components/headers/RequestId"}
		}
	}
	for _, item := range obj(doc, "paths") {
		for _, op := range item.(map[string]any) {
			if op, ok := op.(map[string]any); ok {
				for _, resp := range obj(op, "responses") {
					add(resp.(map[string]any))
				}
			}
		}
	}
	for _, resp := range obj(obj(doc, "components"), "responses") {
		add(resp.(map[string]any))
	}
}

// obj returns m[key] as a map, creating it when absent.
func obj(m map[string]any, key string) map[string]any {
	v, ok := m[key].(map[string]any)
	if !ok {
		v = map[string]any{}
		m[key] = v
	}
	return v
}

func list(m map[string]any, key string) []any {
	v, _ := m[key].([]any)
	return v
}
