package lambda

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Template is what the emulator and the tests read from template.yaml.
type Template struct {
	// Doc is the whole template as plain JSON values, with CloudFormation's short-form
	// tags turned into their long form (!Ref X becomes {"Ref": "X"}), ready for a
	// JSON Schema.
	Doc map[string]any
	// Functions are the AWS::Serverless::Function resources by LogicalId.
	Functions map[string]*TemplateFunction
}

// TemplateFunction is one AWS::Serverless::Function.
type TemplateFunction struct {
	LogicalID string
	// Properties are the function's own properties over Globals.Function's.
	Properties map[string]any
	Metadata   map[string]any
	// Routes are its HttpApi events as route keys: "GET /v1/models/{model}" (see
	// RouteKey).
	Routes []string
	// InvokeMode is its Function URL's InvokeMode; "" when it has no Function URL.
	InvokeMode string
}

// Streams reports whether the function has a Function URL that streams.
func (f *TemplateFunction) Streams() bool { return f.InvokeMode == "RESPONSE_STREAM" }

// String returns a string property, "" when absent or not a string.
func (f *TemplateFunction) String(name string) string {
	s, _ := f.Properties[name].(string)
	return s
}

// Int returns an integer property, 0 when absent.
func (f *TemplateFunction) Int(name string) int {
	n, _ := f.Properties[name].(float64)
	return int(n)
}

// LoadTemplate reads a SAM template.
func LoadTemplate(path string) (*Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := ParseTemplate(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// ParseTemplate parses a SAM template.
func ParseTemplate(b []byte) (*Template, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, err
	}
	longForm(&root)
	var v any
	if err := root.Decode(&v); err != nil {
		return nil, err
	}
	// Round-trip through JSON: numbers become float64 and maps map[string]any, as a
	// JSON Schema validator expects.
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	t := &Template{Functions: map[string]*TemplateFunction{}}
	dec := json.NewDecoder(bytes.NewReader(j))
	if err := dec.Decode(&t.Doc); err != nil {
		return nil, err
	}
	globals := dig(t.Doc, "Globals", "Function")
	resources, _ := t.Doc["Resources"].(map[string]any)
	for id, r := range resources {
		res, _ := r.(map[string]any)
		if res["Type"] != "AWS::Serverless::Function" {
			continue
		}
		f := &TemplateFunction{LogicalID: id, Properties: map[string]any{}}
		f.Metadata, _ = res["Metadata"].(map[string]any)
		for k, v := range globals {
			f.Properties[k] = v
		}
		props, _ := res["Properties"].(map[string]any)
		for k, v := range props {
			f.Properties[k] = v
		}
		events, _ := props["Events"].(map[string]any)
		for name, e := range events {
			ev, _ := e.(map[string]any)
			if ev["Type"] != "HttpApi" {
				continue
			}
			method, _ := dig(ev, "Properties")["Method"].(string)
			path, _ := dig(ev, "Properties")["Path"].(string)
			if method == "" || path == "" {
				return nil, fmt.Errorf("%s.Events.%s: an HttpApi event needs a Method and a Path", id, name)
			}
			f.Routes = append(f.Routes, strings.ToUpper(method)+" "+path)
		}
		sort.Strings(f.Routes)
		if url := dig(props, "FunctionUrlConfig"); url != nil {
			f.InvokeMode, _ = url["InvokeMode"].(string)
			if f.InvokeMode == "" {
				f.InvokeMode = "BUFFERED"
			}
		}
		t.Functions[id] = f
	}
	return t, nil
}

// dig follows keys through nested maps; nil when one is missing.
func dig(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		next, ok := m[k].(map[string]any)
		if !ok {
			return nil
		}
		m = next
	}
	return m
}

// longForm rewrites CloudFormation's short-form intrinsic functions (!Ref, !Sub,
// !GetAtt ...) as the one-key maps they stand for, so the YAML decodes to plain
// values.
func longForm(n *yaml.Node) {
	for _, c := range n.Content {
		longForm(c)
	}
	if !strings.HasPrefix(n.Tag, "!") || strings.HasPrefix(n.Tag, "!!") {
		return
	}
	name := strings.TrimPrefix(n.Tag, "!")
	key := "Fn::" + name
	if name == "Ref" || name == "Condition" {
		key = name
	}
	value := *n
	value.Tag = ""
	switch {
	case value.Kind == yaml.ScalarNode:
		value.Tag = "!!str"
		if name == "GetAtt" { // !GetAtt A.B is {"Fn::GetAtt": ["A", "B"]}
			res, attr, _ := strings.Cut(value.Value, ".")
			value = yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{
				{Kind: yaml.ScalarNode, Tag: "!!str", Value: res},
				{Kind: yaml.ScalarNode, Tag: "!!str", Value: attr},
			}}
		}
	case value.Kind == yaml.SequenceNode:
		value.Tag = "!!seq"
	case value.Kind == yaml.MappingNode:
		value.Tag = "!!map"
	}
	*n = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: key},
		&value,
	}}
}
