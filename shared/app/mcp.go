package app

import (
	"github.com/prometheus/client_golang/prometheus"

	"spass/shared/mcpclient"
)

// openMCP connects the tool loop to the MCP servers of gateway.yaml (none: a.MCP
// stays nil and nothing changes). Their state is exported as the gauge
// spass_mcp_server_up and their calls as spass_mcp_tool_calls_total.
func (a *App) openMCP() {
	calls := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "spass_mcp_tool_calls_total",
		Help: "Calls of MCP server tools by the tool loop, /v1/tools/execute and /mcp, by server and outcome (ok, tool_error, timeout, unavailable)."},
		[]string{"server", "outcome"})
	m := mcpclient.New(a.Config, mcpclient.Options{Getenv: a.Config.Getenv, Settings: a.Settings, Version: "spass",
		Calls: func(server, outcome string) { calls.WithLabelValues(server, outcome).Inc() }})
	if m == nil {
		return
	}
	a.Metrics.Registry().MustRegister(calls)
	for _, st := range m.Status() {
		a.Metrics.Gauge("spass_mcp_server_up", "1 when the MCP tool server answered its last check or call, 0 when it is skipped as down.",
			prometheus.Labels{"server": st.Name, "tenant": st.Tenant}, func() float64 {
				if m.Up(st.Tenant, st.Name) {
					return 1
				}
				return 0
			})
	}
	a.MCP = m
	a.Tools.SetExternal(m)
	a.closers = append(a.closers, m.Close)
	m.Start()
}
