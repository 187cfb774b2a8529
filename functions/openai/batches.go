package openai

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"spass/shared/apierr"
	"spass/shared/app"
	"spass/shared/auth"
	"spass/shared/batch"
	"spass/shared/jobs"
	"spass/shared/store"
	"spass/shared/web"
)

// batchObject is OpenAI's Batch object.
type batchObject struct {
	ID               string            `json:"id"`
	Object           string            `json:"object"`
	Endpoint         string            `json:"endpoint"`
	Errors           json.RawMessage   `json:"errors"`
	InputFileID      string            `json:"input_file_id"`
	CompletionWindow string            `json:"completion_window"`
	Status           string            `json:"status"`
	OutputFileID     *string           `json:"output_file_id"`
	ErrorFileID      *string           `json:"error_file_id"`
	CreatedAt        int64             `json:"created_at"`
	InProgressAt     *int64            `json:"in_progress_at"`
	ExpiresAt        *int64            `json:"expires_at"`
	FinalizingAt     *int64            `json:"finalizing_at"`
	CompletedAt      *int64            `json:"completed_at"`
	FailedAt         *int64            `json:"failed_at"`
	ExpiredAt        *int64            `json:"expired_at"`
	CancellingAt     *int64            `json:"cancelling_at"`
	CancelledAt      *int64            `json:"cancelled_at"`
	RequestCounts    requestCounts     `json:"request_counts"`
	Usage            batchUsage        `json:"usage"`
	Metadata         map[string]string `json:"metadata"`
}

type requestCounts struct {
	Total     int `json:"total"`
	Completed int `json:"completed"`
	Failed    int `json:"failed"`
}

// batchUsage is the token usage of the lines that ran, in OpenAI's shape.
type batchUsage struct {
	InputTokens         int64          `json:"input_tokens"`
	InputTokensDetails  map[string]int `json:"input_tokens_details"`
	OutputTokens        int64          `json:"output_tokens"`
	OutputTokensDetails map[string]int `json:"output_tokens_details"`
	TotalTokens         int64          `json:"total_tokens"`
}

func toBatchObject(b batch.Batch) batchObject {
	o := batchObject{ID: b.ID, Object: "batch", Endpoint: b.Endpoint, Errors: json.RawMessage("null"), InputFileID: b.InputFileID,
		CompletionWindow: b.CompletionWindow, Status: b.Status, CreatedAt: b.CreatedAt / 1000, InProgressAt: secs(b.InProgressAt),
		ExpiresAt: secs(b.ExpiresAt), FinalizingAt: secs(b.FinalizingAt), CompletedAt: secs(b.CompletedAt), FailedAt: secs(b.FailedAt),
		ExpiredAt: secs(b.ExpiredAt), CancellingAt: secs(b.CancellingAt), CancelledAt: secs(b.CancelledAt),
		RequestCounts: requestCounts{Total: b.Total, Completed: b.Completed, Failed: b.Failed},
		Usage: batchUsage{InputTokens: b.PromptTokens, OutputTokens: b.CompletionTokens, TotalTokens: b.PromptTokens + b.CompletionTokens,
			InputTokensDetails: map[string]int{"cached_tokens": 0}, OutputTokensDetails: map[string]int{"reasoning_tokens": 0}}}
	if b.Errors != "" {
		o.Errors = json.RawMessage(b.Errors)
	}
	if b.OutputFileID != "" {
		o.OutputFileID = &b.OutputFileID
	}
	if b.ErrorFileID != "" {
		o.ErrorFileID = &b.ErrorFileID
	}
	json.Unmarshal([]byte(b.Metadata), &o.Metadata)
	return o
}

// batchRequest is the body of POST /v1/batches. output_expires_after is
// accepted and not applied: result files live until they are deleted.
type batchRequest struct {
	InputFileID        string            `json:"input_file_id"`
	Endpoint           string            `json:"endpoint"`
	CompletionWindow   string            `json:"completion_window"`
	Metadata           map[string]string `json:"metadata"`
	OutputExpiresAfter json.RawMessage   `json:"output_expires_after"`
}

// completionWindow is a whole number of hours; OpenAI's clients send "24h".
var completionWindow = regexp.MustCompile(`^([1-9][0-9]{0,2})h$`)

// check validates the body and returns the completion window.
func (req *batchRequest) check() (time.Duration, error) {
	switch {
	case req.InputFileID == "":
		return 0, apierr.P(apierr.MissingParameter, "input_file_id", "Name the batch's input file: upload it with POST /v1/files, purpose batch.")
	case req.Endpoint == "":
		return 0, apierr.P(apierr.MissingParameter, "endpoint", "Name the endpoint of the batch's lines.")
	case !slices.Contains(batch.Endpoints, req.Endpoint):
		return 0, apierr.P(apierr.InvalidRequest, "endpoint", "endpoint must be one of "+strings.Join(batch.Endpoints, ", ")+".")
	case req.CompletionWindow == "":
		return 0, apierr.P(apierr.MissingParameter, "completion_window", "Set completion_window, e.g. 24h.")
	case len(req.Metadata) > 16:
		return 0, apierr.P(apierr.InvalidRequest, "metadata", "metadata holds at most 16 pairs.")
	}
	m := completionWindow.FindStringSubmatch(req.CompletionWindow)
	hours := 0
	if m != nil {
		hours, _ = strconv.Atoi(m[1])
	}
	if hours < 1 || hours > 168 {
		return 0, apierr.P(apierr.InvalidRequest, "completion_window", "completion_window must be whole hours from 1h to 168h, e.g. 24h.")
	}
	for k, v := range req.Metadata {
		if utf8.RuneCountInString(k) > 64 || utf8.RuneCountInString(v) > 512 {
			return 0, apierr.P(apierr.InvalidRequest, "metadata", "metadata keys have at most 64 characters and values at most 512.")
		}
	}
	return time.Duration(hours) * time.Hour, nil
}

// createBatch serves "POST /v1/batches": the batch starts validating and its
// dispatch is queued; its lines run as the caller, on the batch queue.
func createBatch(a *app.App) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := auth.From(r.Context())
		if err := denyReadOnly(p, "create batches"); err != nil {
			return err
		}
		body, err := web.ReadBody(r)
		if err != nil {
			return err
		}
		var req batchRequest
		if err := web.Decode(body, &req); err != nil {
			return err
		}
		window, err := req.check()
		if err != nil {
			return err
		}
		f, ok, err := a.Store.File(r.Context(), p.Tenant, owner(p), req.InputFileID)
		switch {
		case err != nil:
			return apierr.E(apierr.Internal, "", err)
		case !ok:
			return apierr.P(apierr.FileNotFound, "input_file_id", "No file "+apierr.Quote(req.InputFileID)+".")
		case f.Purpose != batch.PurposeBatch:
			return apierr.P(apierr.InvalidRequest, "input_file_id", "The file "+f.ID+" was uploaded with purpose "+f.Purpose+"; a batch reads a file of purpose batch.")
		case f.Endpoint != req.Endpoint:
			return apierr.P(apierr.InvalidRequest, "endpoint", "The lines of "+f.ID+" name "+f.Endpoint+", not "+apierr.Quote(req.Endpoint)+".")
		}
		meta, _ := json.Marshal(req.Metadata)
		if req.Metadata == nil {
			meta = []byte("{}")
		}
		now := time.Now()
		b := batch.Batch{ID: batch.NewBatchID(), TenantID: p.Tenant, UserID: p.User, Role: p.Role, Token: p.Token,
			Endpoint: req.Endpoint, InputFileID: f.ID, CompletionWindow: req.CompletionWindow, Metadata: string(meta),
			Status: batch.Validating, Total: f.Lines, CreatedAt: now.UnixMilli(), ExpiresAt: now.Add(window).UnixMilli()}
		if err := a.Store.CreateBatch(r.Context(), b); err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		if err := a.Batches.Dispatch(r.Context(), b); err != nil {
			a.Store.DeleteBatch(r.Context(), p.Tenant, b.ID)
			if errors.Is(err, jobs.ErrNotStarted) || errors.Is(err, jobs.ErrClosed) {
				return apierr.E(apierr.NotConfigured, "Batches need a job runner: REDIS_URL and the workers, or the gateway running jobs in-process.", err)
			}
			return apierr.E(apierr.Internal, "", err)
		}
		return web.JSON(w, http.StatusOK, toBatchObject(b))
	}
}

// getBatch serves "GET /v1/batches/{id}".
func getBatch(db *store.DB) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		b, err := findBatch(r, db)
		if err != nil {
			return err
		}
		return web.JSON(w, http.StatusOK, toBatchObject(b))
	}
}

// listBatches serves "GET /v1/batches?limit=&after=", newest first.
func listBatches(db *store.DB) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := auth.From(r.Context())
		q, err := listQuery(r, 20, 100)
		if err != nil {
			return err
		}
		q.User = owner(p)
		bs, err := db.Batches(r.Context(), p.Tenant, q)
		if err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		out := make([]batchObject, len(bs))
		for i, b := range bs {
			out[i] = toBatchObject(b)
		}
		return writePage(w, out, q.Limit-1, func(b batchObject) string { return b.ID })
	}
}

// cancelBatch serves "POST /v1/batches/{id}/cancel": no line starts after it;
// the lines running finish, then the batch is cancelled with the results so
// far, the lines that never ran listed in its error file. Cancelling a batch
// that is cancelling or cancelled again answers it as it is.
func cancelBatch(a *app.App) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := auth.From(r.Context())
		if err := denyReadOnly(p, "cancel batches"); err != nil {
			return err
		}
		id := r.PathValue("id")
		found, moved, err := a.Store.CancelBatch(r.Context(), p.Tenant, owner(p), id, time.Now().UnixMilli())
		if err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		if !found {
			return batchNotFound(id)
		}
		b, err := findBatch(r, a.Store)
		if err != nil {
			return err
		}
		if !moved && b.Status != batch.Cancelling && b.Status != batch.Cancelled {
			return apierr.P(apierr.BatchNotCancellable, "id", "The batch "+b.ID+" is "+b.Status+"; only a validating or in_progress batch can be cancelled.")
		}
		if moved {
			if err := a.Batches.Finalize(r.Context(), b); err != nil {
				slog.Warn("batch finalize not enqueued; the sweep will", "batch", b.ID, "err", err)
			}
		}
		return web.JSON(w, http.StatusOK, toBatchObject(b))
	}
}

// findBatch returns the caller's batch named by the path.
func findBatch(r *http.Request, db *store.DB) (batch.Batch, error) {
	p := auth.From(r.Context())
	id := r.PathValue("id")
	b, ok, err := db.Batch(r.Context(), p.Tenant, owner(p), id)
	if err != nil {
		return b, apierr.E(apierr.Internal, "", err)
	}
	if !ok {
		return b, batchNotFound(id)
	}
	return b, nil
}

func batchNotFound(id string) error {
	return apierr.P(apierr.BatchNotFound, "id", "No batch "+apierr.Quote(id)+".")
}
