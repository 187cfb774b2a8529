package admin

import (
	"net/http"
	"time"

	"spass/shared/apierr"
	"spass/shared/app"
	"spass/shared/mcpclient"
	"spass/shared/metrics"
	"spass/shared/web"
)

type backendStats struct {
	Kind    string `json:"kind"`
	Tier    int    `json:"tier,omitempty"`
	Breaker string `json:"breaker"`
}

type stats struct {
	Object   string                         `json:"object"`
	Uptime   float64                        `json:"uptime_seconds"`
	Models   map[string]*metrics.ModelStats `json:"models"`
	Backends map[string]backendStats        `json:"backends"`
	// MCP lists the MCP tool servers and whether each answers (docs/mcp.md).
	MCP []mcpclient.Status `json:"mcp_servers"`
}

// statsz serves "GET /statsz": per-model counters and breaker states as JSON. It
// runs behind RequireOperator, so only an operator's or a scraper's token gets here:
// committing the ledger is work no anonymous caller can make the gateway do.
func statsz(a *app.App) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		// Token and cost counters follow the ledger's commits: commit what is pending.
		if err := a.SyncLedger(r.Context()); err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		models, err := a.Metrics.ModelStats()
		if err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		out := stats{Object: "statsz", Uptime: time.Since(a.Started).Seconds(), Models: models, Backends: map[string]backendStats{}}
		for _, m := range a.Router.Models() {
			if out.Models[m.ID] == nil {
				out.Models[m.ID] = &metrics.ModelStats{}
			}
		}
		for _, b := range a.Router.Backends() {
			out.Backends[b.Name] = backendStats{Kind: b.Kind, Tier: b.Tier, Breaker: a.Router.BreakerState(b.Name).String()}
		}
		out.MCP = []mcpclient.Status{}
		if a.MCP != nil {
			out.MCP = a.MCP.Status()
		}
		return web.JSON(w, http.StatusOK, out)
	}
}
