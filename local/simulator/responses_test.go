package simulator

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"
)

func TestResponsesAnswersAsChatWould(t *testing.T) {
	_, ts := start(t, Options{})
	resp := post(t, ts, "/v1/responses", object{"model": "sim-chat", "input": "Hello there"})
	var r struct {
		Status string
		Output []struct {
			Type    string
			Content []struct{ Text string }
		}
		Usage struct {
			InputTokens  int `json:"input_tokens"`
			OutputTokens int `json:"output_tokens"`
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	if r.Status != "completed" || len(r.Output) != 1 || r.Output[0].Content[0].Text != "Hello! You said: Hello there" || r.Usage.OutputTokens == 0 {
		t.Fatalf("%+v", r)
	}

	tools := []any{object{"type": "function", "name": "get_weather", "parameters": object{"type": "object", "properties": object{"city": object{"type": "string"}}}}}
	resp = post(t, ts, "/v1/responses", object{"model": "sim-chat", "input": "weather? get_weather", "tools": tools, "stream": true})
	var types []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			var ev struct{ Type string }
			json.Unmarshal([]byte(data), &ev)
			types = append(types, ev.Type)
		}
	}
	want := "response.created response.in_progress response.output_item.added response.function_call_arguments.delta " +
		"response.function_call_arguments.done response.output_item.done response.completed"
	if strings.Join(types, " ") != want {
		t.Fatalf("events %v", types)
	}
}
