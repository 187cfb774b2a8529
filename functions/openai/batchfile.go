package openai

import (
	"bufio"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"spass/shared/apierr"
	"spass/shared/app"
	"spass/shared/batch"
	"spass/shared/chat"
	"spass/shared/router"
	"spass/shared/store"
	"spass/shared/web"
)

// checkBatchFile checks the batch input file at path line by line, the way its
// lines' endpoint will read them, so a mistake is reported at upload with its
// line number instead of as a thousand failed lines later. It fills in f's line
// count and endpoint.
func checkBatchFile(a *app.App, path string, f *batch.File) error {
	rd, err := os.Open(path)
	if err != nil {
		return apierr.E(apierr.Internal, "", err)
	}
	defer rd.Close()
	lim := batch.Limits{MaxLines: a.Config.Batches.MaxLines, MaxLineBytes: batch.MaxLineBytes}
	s, err := batch.Check(rd, lim, bodyCheck(a.Router))
	switch {
	case errors.Is(err, batch.ErrTooManyLines):
		return apierr.P(apierr.InvalidBatchFile, "file", fmt.Sprintf("The file has more than %d requests (batches.max_lines); split it into several batches.", lim.MaxLines))
	case errors.Is(err, bufio.ErrTooLong):
		return apierr.P(apierr.InvalidBatchFile, "file", fmt.Sprintf("Line %d is longer than %d MiB.", s.Lines+1, batch.MaxLineBytes>>20))
	case err != nil:
		return apierr.E(apierr.Internal, "", err)
	case s.Lines == 0:
		return apierr.P(apierr.InvalidBatchFile, "file", "The file holds no request: one JSON object per line.")
	case s.Invalid > 0:
		msgs := make([]string, len(s.Errors))
		for i, e := range s.Errors {
			msgs[i] = e.String()
		}
		more := ""
		if s.Invalid > len(s.Errors) {
			more = fmt.Sprintf(" (and %d more)", s.Invalid-len(s.Errors))
		}
		return apierr.P(apierr.InvalidBatchFile, "file", fmt.Sprintf("%d of %d lines are invalid: %s%s", s.Invalid, s.Lines, strings.Join(msgs, "; "), more))
	}
	f.Lines, f.Endpoint = s.Lines, s.Endpoint
	return nil
}

// bodyCheck reads a line's body as its endpoint does, refuses a stream, and
// checks that the model is served for the endpoint. The tenant's model policy
// is applied when the line runs, like every other setting.
func bodyCheck(rt *router.Router) batch.BodyCheck {
	return func(endpoint string, body []byte) (string, string) {
		var model, typ string
		switch endpoint {
		case batch.EndpointChat:
			req, err := chat.ParseChat(body)
			if err != nil {
				return paramMessage(err)
			}
			if req.Stream {
				return "stream", "A batch line cannot stream: remove stream."
			}
			model, typ = req.Model, "chat"
		case batch.EndpointEmbeddings:
			req, err := chat.ParseEmbeddings(body)
			if err != nil {
				return paramMessage(err)
			}
			model, typ = req.Model, "embedding"
		}
		if m := rt.Model(model); m == nil || !m.Serves(typ) {
			return "model", fmt.Sprintf("The model %s does not exist or is not served for %s.", apierr.Quote(model), endpoint)
		}
		return "", ""
	}
}

// paramMessage is a parser's error as a line error's param and message.
func paramMessage(err error) (string, string) {
	e := apierr.From(err)
	msg := e.Message
	if msg == "" {
		msg = apierr.Lookup(e.Code).Message
	}
	return e.Param, msg
}

// listQuery reads ?limit=&after=&order= of a list route; its Limit is one more
// than asked, so writePage can tell whether more follow.
func listQuery(r *http.Request, def, most int) (store.ListQuery, error) {
	limit, err := web.QueryLimit(r, def, most)
	if err != nil {
		return store.ListQuery{}, err
	}
	q := store.ListQuery{After: r.URL.Query().Get("after"), Limit: limit + 1}
	switch r.URL.Query().Get("order") {
	case "", "desc":
	case "asc":
		q.Ascending = true
	default:
		return q, apierr.P(apierr.InvalidQuery, "order", "order must be asc or desc.")
	}
	return q, nil
}

// writePage writes OpenAI's cursor page of at most limit items.
func writePage[T any](w http.ResponseWriter, items []T, limit int, id func(T) string) error {
	items, more := web.Page(items, limit)
	page := struct {
		Object  string  `json:"object"`
		Data    []T     `json:"data"`
		FirstID *string `json:"first_id"`
		LastID  *string `json:"last_id"`
		HasMore bool    `json:"has_more"`
	}{Object: "list", Data: items, HasMore: more}
	if len(items) > 0 {
		first, last := id(items[0]), id(items[len(items)-1])
		page.FirstID, page.LastID = &first, &last
	}
	return web.JSON(w, http.StatusOK, page)
}

// secs is a unix-ms time in unix seconds, null when unset.
func secs(ms int64) *int64 {
	if ms == 0 {
		return nil
	}
	s := ms / 1000
	return &s
}
