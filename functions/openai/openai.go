// Package openai serves the /v1 OpenAI-compatible group: chat completions (SSE
// streaming included), embeddings, the model list and the model catalog (/v1/info),
// images, audio (transcriptions, speech), moderations, rerank, the Files and Batch
// APIs, and the Responses API.
package openai

import (
	"net/http"

	"spass/shared/app"
	"spass/shared/auth"
	"spass/shared/chat"
	"spass/shared/web"
)

// Routes are the patterns this group serves; the dev shim and template.yaml mount them.
var Routes = []string{
	"POST /v1/chat/completions",
	"POST /v1/embeddings",
	"GET /v1/models",
	"GET /v1/models/{model}",
	"GET /v1/info",
	"POST /v1/images/generations",
	"POST /v1/images",
	"GET /v1/images",
	// GET and DELETE, dispatched by the handler: see imageByID.
	"/v1/images/{id}",
	"POST /v1/files",
	"GET /v1/files",
	"GET /v1/files/{id}",
	"DELETE /v1/files/{id}",
	"GET /v1/files/{id}/content",
	"POST /v1/batches",
	"GET /v1/batches",
	"GET /v1/batches/{id}",
	"POST /v1/batches/{id}/cancel",
	"POST /v1/responses",
	"GET /v1/responses/{id}",
	"DELETE /v1/responses/{id}",
	"GET /v1/responses/{id}/input_items",
	"POST /v1/audio/transcriptions",
	"POST /v1/audio/speech",
	"POST /v1/moderations",
	"POST /v1/rerank",
}

// Canonical forms of the SPASS-* request headers: Header.Get canonicalizes its
// argument, which for these mixed-case names allocates on every call.
var (
	toolsKey        = http.CanonicalHeaderKey(chat.HeaderTools)
	systemPromptKey = http.CanonicalHeaderKey(chat.HeaderSystemPrompt)
)

// New returns the handler for the /v1 OpenAI-compatible group.
func New(a *app.App) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /v1/chat/completions", a.Auth.RequireUser(web.Handle(chatCompletions(a.Chat))))
	mux.Handle("POST /v1/embeddings", a.Auth.RequireUser(web.Handle(embeddings(a.Chat))))
	mux.Handle("GET /v1/models", a.Auth.Require(web.Handle(listModels(a))))
	mux.Handle("GET /v1/models/{model}", a.Auth.Require(web.Handle(getModel(a))))
	mux.Handle("GET /v1/info", a.Auth.Require(web.Handle(info(a))))
	mux.Handle("POST /v1/images/generations", a.Auth.RequireUser(web.Handle(generateImages(a.Chat))))
	mux.Handle("POST /v1/images", a.Auth.RequireUser(web.Handle(uploadImage(a.Store))))
	mux.Handle("GET /v1/images", a.Auth.RequireUser(web.Handle(listImages(a.Store))))
	mux.Handle("/v1/images/{id}", a.Auth.RequireUser(web.Handle(imageByID(a.Store))))
	mux.Handle("POST /v1/files", a.Auth.RequireUser(web.Handle(uploadFile(a))))
	mux.Handle("GET /v1/files", a.Auth.RequireUser(web.Handle(listFiles(a.Store))))
	mux.Handle("GET /v1/files/{id}", a.Auth.RequireUser(web.Handle(getFile(a.Store))))
	mux.Handle("DELETE /v1/files/{id}", a.Auth.RequireUser(web.Handle(deleteFile(a))))
	mux.Handle("GET /v1/files/{id}/content", a.Auth.RequireUser(web.Handle(fileContent(a))))
	mux.Handle("POST /v1/batches", a.Auth.RequireUser(web.Handle(createBatch(a))))
	mux.Handle("GET /v1/batches", a.Auth.RequireUser(web.Handle(listBatches(a.Store))))
	mux.Handle("GET /v1/batches/{id}", a.Auth.RequireUser(web.Handle(getBatch(a.Store))))
	mux.Handle("POST /v1/batches/{id}/cancel", a.Auth.RequireUser(web.Handle(cancelBatch(a))))
	mux.Handle("POST /v1/responses", a.Auth.RequireUser(web.Handle(createResponse(a))))
	mux.Handle("GET /v1/responses/{id}", a.Auth.RequireUser(web.Handle(getResponse(a.Store))))
	mux.Handle("DELETE /v1/responses/{id}", a.Auth.RequireUser(web.Handle(deleteResponse(a.Store))))
	mux.Handle("GET /v1/responses/{id}/input_items", a.Auth.RequireUser(web.Handle(listInputItems(a.Store))))
	mux.Handle("POST /v1/audio/transcriptions", a.Auth.RequireUser(web.Handle(transcriptions(a))))
	mux.Handle("POST /v1/audio/speech", a.Auth.RequireUser(web.Handle(speech(a))))
	mux.Handle("POST /v1/moderations", a.Auth.RequireUser(web.Handle(moderations(a))))
	mux.Handle("POST /v1/rerank", a.Auth.RequireUser(web.Handle(rerank(a))))
	return a.Middleware(mux)
}

// chatCompletions serves "POST /v1/chat/completions".
func chatCompletions(c *chat.Service) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		body, err := web.ReadBody(r)
		if err != nil {
			return err
		}
		req, err := chat.ParseChat(body)
		if err != nil {
			return err
		}
		p := auth.From(r.Context())
		if err := c.Prepare(r.Context(), p, req, r.Header.Get(systemPromptKey)); err != nil {
			return err
		}
		opts := chat.Options{Tools: chat.ToolsHeader(r.Header.Get(toolsKey)), NoReply: true}
		res, err := c.Complete(r.Context(), p, req, opts, chat.HTTP(w))
		app.Trace(r.Context(), res, req.Stream)
		return err
	}
}

// embeddings serves "POST /v1/embeddings".
func embeddings(c *chat.Service) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		body, err := web.ReadBody(r)
		if err != nil {
			return err
		}
		req, err := chat.ParseEmbeddings(body)
		if err != nil {
			return err
		}
		res, err := c.Embed(r.Context(), auth.From(r.Context()), req, chat.Options{}, chat.HTTP(w))
		trace(r, res)
		return err
	}
}

// trace hands who served the request to the middleware's metrics and log line.
func trace(r *http.Request, res chat.Result) { app.Trace(r.Context(), res, false) }
