package simulator

import (
	"encoding/json"
	"testing"
)

func fn(name, description, params string) tool {
	var t tool
	t.Type = "function"
	t.Function.Name, t.Function.Description = name, description
	t.Function.Parameters = json.RawMessage(params)
	return t
}

var (
	fitWeather = fn("get_weather", "Current weather for a city",
		`{"type":"object","properties":{"city":{"type":"string"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["city"]}`)
	fitCalc = fn("calculator", "Evaluate an arithmetic expression exactly",
		`{"type":"object","properties":{"expression":{"type":"string"}},"required":["expression"]}`)
	fitTime = fn("datetime", "Get the current date and time in a time zone",
		`{"type":"object","properties":{"timezone":{"type":"string"},"format":{"type":"string"}}}`)
	fitConvert = fn("unit_convert", "Convert a value between units of the same dimension",
		`{"type":"object","properties":{"value":{"type":"number"},"from":{"type":"string"},"to":{"type":"string"}},"required":["value","from","to"]}`)
	fitAdd = fn("add_numbers", "Add two numbers",
		`{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer","maximum":100}},"required":["a","b"]}`)
	fitFetch = fn("web_fetch", "Fetch a web page by URL and return its readable text",
		`{"type":"object","properties":{"url":{"type":"string"}},"required":["url"]}`)
	fitImage = fn("image_gen", "Generate images from a text description",
		`{"type":"object","properties":{"prompt":{"type":"string"}},"required":["prompt"]}`)
)

// The simulator calls the tool a message asks for, named or not, with arguments
// taken from the message; a message no tool fits gets no call.
func TestToolCallsFromTheMessage(t *testing.T) {
	all := []tool{fitWeather, fitCalc, fitTime, fitConvert, fitAdd, fitFetch, fitImage}
	tests := []struct {
		text, choice string
		want         string // "name arguments", or "" for no call
	}{
		{"What is the weather in Paris?", "", `get_weather {"city":"Paris"}`},
		{"Is the weather in New York in fahrenheit today?", "", `get_weather {"city":"New York","unit":"fahrenheit"}`},
		{"What is 1234 * 5678? Use the calculator.", "", `calculator {"expression":"1234 * 5678"}`},
		{"calculator: 2^10", "", `calculator {"expression":"2^10"}`},
		{"What is the current time in Tokyo?", "", `datetime {"timezone":"Asia/Tokyo"}`},
		{"Please add the numbers 17 and 250", "", `add_numbers {"a":17,"b":100}`},
		{"Fetch the page https://example.org/news for me", "", `web_fetch {"url":"https://example.org/news"}`},
		{"Describe this image", "", ""},
		{"Hello", "", ""},
		{"Tell me a story", "", ""},
		{"What is the weather in Paris?", `{"type":"function","function":{"name":"calculator"}}`, `calculator {"expression":"example"}`},
		{"What is the weather in Paris?", `"none"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.text+" "+tt.choice, func(t *testing.T) {
			req := chatRequest{Tools: all, ToolChoice: json.RawMessage(tt.choice)}
			got := ""
			if toolsEnabled(req) {
				if calls := chooseToolCalls(all, req.ToolChoice, tt.text); len(calls) > 0 {
					got = calls[0].Function.Name + " " + calls[0].Function.Arguments
				}
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestKeyWords(t *testing.T) {
	for name, want := range map[string]string{"get_weather": "weather", "webSearch": "web search", "list_models": "model", "run": ""} {
		got := ""
		for i, w := range keyWords(name) {
			if i > 0 {
				got += " "
			}
			got += w
		}
		if got != want {
			t.Errorf("keyWords(%q) = %q, want %q", name, got, want)
		}
	}
}
