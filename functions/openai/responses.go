package openai

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"

	"github.com/tidwall/gjson"

	"spass/shared/apierr"
	"spass/shared/app"
	"spass/shared/auth"
	"spass/shared/backend"
	"spass/shared/chat"
	"spass/shared/identity"
	"spass/shared/redact"
	"spass/shared/response"
	"spass/shared/store"
	"spass/shared/web"
)

// maxChain bounds how many stored responses previous_response_id follows back.
const maxChain = 200

// createResponse serves "POST /v1/responses": OpenAI's Responses API on the chat
// core. A backend that serves the API natively gets the request as it came (the
// stored conversation inlined); any other chat backend gets its Chat Completions
// form, and the answer is translated back (JSON or the named stream events).
// With store (the default) the response is kept for GET and previous_response_id.
func createResponse(a *app.App) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		body, err := web.ReadBody(r)
		if err != nil {
			return err
		}
		req, err := parseResponses(body)
		if err != nil {
			return err
		}
		ctx, p := r.Context(), auth.From(r.Context())
		items, err := inputItems(req.Input)
		if err != nil {
			return err
		}
		history, err := responseHistory(ctx, a.Store, p, req.PreviousResponseID)
		if err != nil {
			return err
		}
		creq, err := chatRequest(req, items)
		if err != nil {
			return err
		}
		past, err := chatMessages(history)
		if err != nil {
			return err
		}
		nbody, err := nativeBody(body, slices.Concat(history, items))
		if err != nil {
			return err
		}
		if err := a.Chat.Prepare(ctx, p, creq, r.Header.Get(systemPromptKey)); err != nil {
			return err
		}
		o := newRespObject(response.NewID("resp_"), req)
		n := &chat.Native{Cap: backend.Responses, Path: "/responses", Body: nbody, Redact: (*redact.Redactor).ResponsesBody}
		opts := chat.Options{Surface: chat.SurfaceResponses, Ref: o.ID, History: past,
			Tools: chat.ToolsHeader(r.Header.Get(toolsKey)), NoReply: req.Stream}
		keep := func(final []byte) {
			if final == nil || !req.stored() {
				return
			}
			if err := a.Store.SaveResponse(context.WithoutCancel(ctx), storedOf(o, p.Tenant, p.User, items, final)); err != nil {
				slog.Error("responses: storing a response failed", "response", o.ID, "err", err)
			}
		}
		if req.Stream {
			sink := newRespStream(w, n, o)
			res, err := a.Chat.Respond(ctx, p, creq, n, opts, sink)
			app.Trace(ctx, res, true)
			if err != nil {
				return err
			}
			keep(sink.result(res))
			sink.Finish()
			return nil
		}
		sink := &chat.Memory{}
		res, err := a.Chat.Respond(ctx, p, creq, n, opts, sink)
		app.Trace(ctx, res, false)
		if err != nil {
			return err
		}
		o.Model = res.Model // the overflow model, when the guard chose one
		var out []byte
		if n.Served {
			out = nativeAnswer(sink.Body, o)
		} else {
			reply := res.Reply()
			o.fromReply(reply)
			o.finish(reply.FinishReason, res.Usage)
			if out, err = json.Marshal(o); err != nil {
				return apierr.E(apierr.Internal, "", err)
			}
		}
		keep(out)
		for k, v := range sink.Header() {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.Write(out)
		return nil
	}
}

// responseHistory returns the conversation previous_response_id continues: the
// input and output items of every stored response of its chain, oldest first. A
// chain ends at a response deleted since, or after maxChain responses.
func responseHistory(ctx context.Context, st *store.DB, p identity.Principal, prev string) ([]json.RawMessage, error) {
	var turns [][]json.RawMessage
	for id := prev; id != "" && len(turns) < maxChain; {
		r, ok, err := st.Response(ctx, p.Tenant, p.User, id)
		if err != nil {
			return nil, apierr.E(apierr.Internal, "", err)
		}
		if !ok {
			if len(turns) == 0 {
				return nil, apierr.P(apierr.ResponseNotFound, "previous_response_id", "No stored response has the id "+apierr.Quote(bounded(id))+".")
			}
			break
		}
		var turn []json.RawMessage
		if err := json.Unmarshal(r.Input, &turn); err != nil {
			return nil, apierr.E(apierr.Internal, "", err)
		}
		gjson.GetBytes(r.Body, "output").ForEach(func(_, it gjson.Result) bool {
			if t := it.Get("type").Str; t == "message" || t == "function_call" {
				turn = append(turn, json.RawMessage(it.Raw))
			}
			return true
		})
		turns = append(turns, turn)
		id = r.PreviousID
	}
	slices.Reverse(turns)
	return slices.Concat(turns...), nil
}

// getResponse serves "GET /v1/responses/{id}": the stored response as delivered.
func getResponse(st *store.DB) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if r.URL.Query().Get("stream") == "true" {
			return apierr.P(apierr.InvalidQuery, "stream", "A stored response is returned whole; stream is not served.")
		}
		res, err := storedResponse(r, st)
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(res.Body)
		return nil
	}
}

// deleteResponse serves "DELETE /v1/responses/{id}".
func deleteResponse(st *store.DB) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, id := auth.From(r.Context()), r.PathValue("id")
		ok, err := st.DeleteResponse(r.Context(), p.Tenant, p.User, id)
		if err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		if !ok {
			return apierr.P(apierr.ResponseNotFound, "response_id", "")
		}
		return web.JSON(w, http.StatusOK, map[string]any{"id": id, "object": "response", "deleted": true})
	}
}

// inputItemList is OpenAI's ResponseItemList.
type inputItemList struct {
	Object  string            `json:"object"`
	Data    []json.RawMessage `json:"data"`
	FirstID *string           `json:"first_id"`
	LastID  *string           `json:"last_id"`
	HasMore bool              `json:"has_more"`
}

// listInputItems serves "GET /v1/responses/{id}/input_items": the request's input
// items, newest first unless order=asc, paged by ?after=<item id> and ?limit=.
func listInputItems(st *store.DB) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		limit, err := web.QueryLimit(r, 20, 100)
		if err != nil {
			return err
		}
		order := r.URL.Query().Get("order")
		if order != "" && order != "asc" && order != "desc" {
			return apierr.P(apierr.InvalidQuery, "order", "order must be asc or desc.")
		}
		res, err := storedResponse(r, st)
		if err != nil {
			return err
		}
		var items []json.RawMessage
		if err := json.Unmarshal(res.Input, &items); err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		if order != "asc" {
			slices.Reverse(items)
		}
		if after := r.URL.Query().Get("after"); after != "" {
			i := slices.IndexFunc(items, func(it json.RawMessage) bool { return gjson.GetBytes(it, "id").Str == after })
			if i < 0 {
				return apierr.P(apierr.InvalidQuery, "after", "after must be the id of an input item of this response.")
			}
			items = items[i+1:]
		}
		page := inputItemList{Object: "list", Data: items[:min(limit, len(items))], HasMore: len(items) > limit}
		if len(page.Data) > 0 {
			first, last := gjson.GetBytes(page.Data[0], "id").Str, gjson.GetBytes(page.Data[len(page.Data)-1], "id").Str
			page.FirstID, page.LastID = &first, &last
		}
		return web.JSON(w, http.StatusOK, page)
	}
}

// storedResponse loads the caller's response named in the path.
func storedResponse(r *http.Request, st *store.DB) (response.Response, error) {
	p := auth.From(r.Context())
	res, ok, err := st.Response(r.Context(), p.Tenant, p.User, r.PathValue("id"))
	if err != nil {
		return res, apierr.E(apierr.Internal, "", err)
	}
	if !ok {
		return res, apierr.P(apierr.ResponseNotFound, "response_id", "")
	}
	return res, nil
}
