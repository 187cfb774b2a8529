package tenant

import (
	"net/http"
	"strconv"
	"time"

	"spass/shared/apierr"
	"spass/shared/app"
	"spass/shared/auth"
	"spass/shared/store"
	"spass/shared/web"
)

type usageRow struct {
	BucketStart      string  `json:"bucket_start"`
	Group            string  `json:"group,omitempty"`
	Requests         int64   `json:"requests"`
	Errors           int64   `json:"errors"`
	PromptTokens     int64   `json:"prompt_tokens"`
	CompletionTokens int64   `json:"completion_tokens"`
	CachedTokens     int64   `json:"cached_tokens"`
	CostUSD          float64 `json:"cost_usd"`
	CostEUR          float64 `json:"cost_eur"`
	CostNanoUSD      int64   `json:"cost_usd_nano"`
	CostNanoEUR      int64   `json:"cost_eur_nano"`
}

type usageResponse struct {
	Object  string     `json:"object"`
	Tenant  string     `json:"tenant"`
	From    string     `json:"from"`
	To      string     `json:"to"`
	Bucket  string     `json:"bucket"`
	GroupBy string     `json:"group_by,omitempty"`
	Data    []usageRow `json:"data"`
	Total   usageRow   `json:"total"`
}

// usage serves "GET /v1/billing/usage?from&to&bucket=hour|day&group_by=model|user|backend|surface".
// from and to are RFC 3339 times or unix seconds; the default is the last 24 hours.
func usage(a *app.App) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		now := time.Now()
		from, err := parseTime(q.Get("from"), now.Add(-24*time.Hour), "from")
		if err != nil {
			return err
		}
		to, err := parseTime(q.Get("to"), now, "to")
		if err != nil {
			return err
		}
		if !to.After(from) {
			return apierr.P(apierr.InvalidQuery, "to", "to must be after from.")
		}
		bucket := q.Get("bucket")
		if bucket == "" {
			bucket = "day"
		}
		if _, ok := store.Buckets[bucket]; !ok {
			return apierr.P(apierr.InvalidQuery, "bucket", "bucket must be hour or day.")
		}
		group := q.Get("group_by")
		if _, ok := store.GroupColumns[group]; !ok {
			return apierr.P(apierr.InvalidQuery, "group_by", "group_by must be model, user, backend or surface.")
		}
		tenant := auth.From(r.Context()).Tenant
		// Rows still in the ledger journal are part of "exact at any moment".
		if err := a.SyncLedger(r.Context()); err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		rows, err := a.Store.Usage(r.Context(), tenant, store.UsageQuery{From: from.UnixMilli(), To: to.UnixMilli(), Bucket: bucket, GroupBy: group})
		if err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		out := usageResponse{Object: "billing.usage", Tenant: tenant, From: from.UTC().Format(time.RFC3339),
			To: to.UTC().Format(time.RFC3339), Bucket: bucket, GroupBy: group, Data: []usageRow{}}
		var total store.UsageRow
		for _, row := range rows {
			out.Data = append(out.Data, toRow(row))
			total.Requests += row.Requests
			total.Errors += row.Errors
			total.PromptTokens += row.PromptTokens
			total.CompletionTokens += row.CompletionTokens
			total.CachedTokens += row.CachedTokens
			total.CostNanoUSD += row.CostNanoUSD
			total.CostNanoEUR += row.CostNanoEUR
		}
		out.Total = toRow(total)
		out.Total.BucketStart = out.From
		return web.JSON(w, http.StatusOK, out)
	}
}

func toRow(r store.UsageRow) usageRow {
	return usageRow{
		BucketStart: time.UnixMilli(r.BucketStart).UTC().Format(time.RFC3339), Group: r.Group,
		Requests: r.Requests, Errors: r.Errors, PromptTokens: r.PromptTokens, CompletionTokens: r.CompletionTokens,
		CachedTokens: r.CachedTokens, CostUSD: float64(r.CostNanoUSD) / 1e9, CostEUR: float64(r.CostNanoEUR) / 1e9,
		CostNanoUSD: r.CostNanoUSD, CostNanoEUR: r.CostNanoEUR,
	}
}

func parseTime(s string, def time.Time, param string) (time.Time, error) {
	if s == "" {
		return def, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), nil
	}
	return time.Time{}, apierr.P(apierr.InvalidQuery, param, param+" must be an RFC 3339 time or unix seconds.")
}
