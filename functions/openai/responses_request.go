package openai

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"spass/shared/apierr"
	"spass/shared/response"
)

// respRequest is a POST /v1/responses body: the fields the gateway reads or
// translates. Others a native backend may know are forwarded to it untouched.
type respRequest struct {
	Model              string            `json:"model"`
	Input              json.RawMessage   `json:"input"`
	Instructions       json.RawMessage   `json:"instructions"`
	Tools              []json.RawMessage `json:"tools"`
	ToolChoice         json.RawMessage   `json:"tool_choice"`
	Text               *respText         `json:"text"`
	MaxOutputTokens    *int              `json:"max_output_tokens"`
	Temperature        *float64          `json:"temperature"`
	TopP               *float64          `json:"top_p"`
	ParallelToolCalls  *bool             `json:"parallel_tool_calls"`
	Stream             bool              `json:"stream"`
	Store              *bool             `json:"store"`
	PreviousResponseID string            `json:"previous_response_id"`
	Metadata           json.RawMessage   `json:"metadata"`
	User               string            `json:"user"`
	Background         bool              `json:"background"`
}

// respText is the text option: the output format.
type respText struct {
	Format json.RawMessage `json:"format"`
}

// stored reports whether the response is kept: OpenAI's default is true.
func (r *respRequest) stored() bool { return r.Store == nil || *r.Store }

// parseResponses reads and checks a Responses body. Keys that policy reads must
// appear once: a backend that takes the last of two would serve what was not checked.
func parseResponses(body []byte) (*respRequest, error) {
	if err := checkBody(body); err != nil {
		return nil, err
	}
	var r respRequest
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, apierr.E(apierr.InvalidRequest, "The body does not match the Responses API: "+bounded(err.Error()), nil)
	}
	if r.Model == "" {
		return nil, apierr.P(apierr.MissingParameter, "model", "You must provide a model parameter.")
	}
	if len(r.Input) == 0 || string(r.Input) == "null" {
		return nil, apierr.P(apierr.MissingParameter, "input", "You must provide an input parameter.")
	}
	// Objects kept at a cloud backend belong to the gateway's account, shared by
	// every tenant: a native backend must never be asked for them.
	for _, k := range []string{"conversation", "prompt"} {
		if v := gjson.GetBytes(body, k); v.Exists() && v.Type != gjson.Null {
			return nil, apierr.P(apierr.InvalidRequest, k, k+" is not served by this gateway; continue a conversation with previous_response_id.")
		}
	}
	if r.Background {
		return nil, apierr.P(apierr.InvalidRequest, "background", "background responses are not served by this gateway; send background: false.")
	}
	if in := bytes.TrimSpace(r.Instructions); len(in) > 0 && in[0] != '"' && string(in) != "null" {
		return nil, apierr.P(apierr.InvalidRequest, "instructions", "instructions must be a string.")
	}
	return &r, nil
}

// checkBody checks what every JSON body must pass: one object, no user_id, no
// key the gateway reads given twice.
func checkBody(body []byte) error {
	t := bytes.TrimLeft(body, " \t\r\n")
	if len(t) == 0 || t[0] != '{' || !gjson.ValidBytes(body) {
		return apierr.E(apierr.InvalidJSON, "", nil)
	}
	seen := map[string]bool{}
	var err error
	gjson.ParseBytes(body).ForEach(func(k, _ gjson.Result) bool {
		switch {
		case k.Str == "user_id":
			err = apierr.P(apierr.UserIDInBody, "user_id", "")
		case seen[k.Str]:
			err = apierr.P(apierr.DuplicateKey, bounded(k.Str), "")
		}
		seen[k.Str] = true
		return err == nil
	})
	return err
}

// bounded cuts client text echoed in a message.
func bounded(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// inputItems returns the request's input as Responses items, each with an id (as
// GET /v1/responses/{id}/input_items lists them): a string becomes one user
// message; messages get their content as parts.
func inputItems(raw json.RawMessage) ([]json.RawMessage, error) {
	in := gjson.ParseBytes(raw)
	if in.Type == gjson.String {
		return []json.RawMessage{messageItem("user", in.Raw)}, nil
	}
	if !in.IsArray() {
		return nil, apierr.P(apierr.InvalidRequest, "input", "input must be a string or an array of items.")
	}
	var items []json.RawMessage
	var err error
	in.ForEach(func(i, it gjson.Result) bool {
		param := fmt.Sprintf("input[%d]", i.Int())
		if !it.IsObject() {
			err = apierr.P(apierr.InvalidRequest, param, "Each input item must be an object.")
			return false
		}
		switch typ := it.Get("type").Str; typ {
		case "", "message":
			role := it.Get("role").Str
			if role != "user" && role != "assistant" && role != "system" && role != "developer" {
				err = apierr.P(apierr.InvalidRequest, param+".role", "role must be user, assistant, system or developer.")
				return false
			}
			content := it.Get("content")
			if content.Type != gjson.String && !content.IsArray() {
				err = apierr.P(apierr.InvalidRequest, param+".content", "content must be a string or an array of parts.")
				return false
			}
			item := messageItem(role, content.Raw)
			if id := it.Get("id").Str; id != "" {
				item, _ = sjson.SetBytes(item, "id", id)
			}
			items = append(items, item)
		case "function_call", "function_call_output":
			if it.Get("call_id").Str == "" {
				err = apierr.P(apierr.MissingParameter, param+".call_id", "A "+typ+" item needs its call_id.")
				return false
			}
			item := json.RawMessage(it.Raw)
			if it.Get("id").Str == "" {
				prefix := "fc_"
				if typ == "function_call_output" {
					prefix = "fco_"
				}
				item, _ = sjson.SetBytes(item, "id", response.NewID(prefix))
			}
			items = append(items, item)
		case "reasoning":
			items = append(items, json.RawMessage(it.Raw)) // kept for the history; never sent as chat
		default:
			err = apierr.P(apierr.InvalidRequest, param+".type", "The gateway reads input items of type message, function_call, function_call_output and reasoning; not "+apierr.Quote(bounded(typ))+".")
			return false
		}
		return true
	})
	if err == nil && len(items) == 0 {
		err = apierr.P(apierr.InvalidRequest, "input", "input must not be empty.")
	}
	return items, err
}

// messageItem is a message item with its content as parts; content is a JSON
// string or array. A string becomes one input_text (output_text for assistants).
func messageItem(role, content string) json.RawMessage {
	c := gjson.Parse(content)
	parts := content
	if c.Type == gjson.String {
		kind := "input_text"
		if role == "assistant" {
			kind = "output_text"
		}
		parts = `[{"type":"` + kind + `","text":` + content + `}]`
	}
	status := ""
	if role == "assistant" {
		status = `,"status":"completed"`
	}
	return json.RawMessage(`{"id":"` + response.NewID("msg_") + `","type":"message","role":"` + role + `"` + status + `,"content":` + parts + `}`)
}

// nativeBody is the request for a backend that serves the Responses API itself:
// the client's body with the conversation the gateway keeps in place of
// previous_response_id, and store off (the gateway stores it).
func nativeBody(body []byte, items []json.RawMessage) ([]byte, error) {
	b, err := sjson.DeleteBytes(body, "previous_response_id")
	if err == nil {
		b, err = sjson.SetBytes(b, "store", false)
	}
	if err == nil {
		var arr []byte
		if arr, err = json.Marshal(items); err == nil {
			b, err = sjson.SetRawBytes(b, "input", arr)
		}
	}
	if err != nil {
		return nil, apierr.E(apierr.Internal, "", err)
	}
	return b, nil
}
