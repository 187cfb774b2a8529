package metrics

import (
	dto "github.com/prometheus/client_model/go"
)

// ModelStats are one model's counters since the process started.
type ModelStats struct {
	Requests         float64 `json:"requests"`
	Errors           float64 `json:"errors"`
	PromptTokens     float64 `json:"prompt_tokens"`
	CompletionTokens float64 `json:"completion_tokens"`
	CachedTokens     float64 `json:"cached_tokens"`
	CostUSD          float64 `json:"cost_usd"`
	CostEUR          float64 `json:"cost_eur"`
}

// ModelStats reads the per-model counters back from the registry, so /statsz costs
// the hot path nothing and can never disagree with /metrics.
func (m *Metrics) ModelStats() (map[string]*ModelStats, error) {
	families, err := m.reg.Gather()
	if err != nil {
		return nil, err
	}
	out := map[string]*ModelStats{}
	get := func(model string) *ModelStats {
		s := out[model]
		if s == nil {
			s = &ModelStats{}
			out[model] = s
		}
		return s
	}
	for _, f := range families {
		for _, mt := range f.GetMetric() {
			l := labels(mt)
			model := l["model"]
			if model == "" {
				continue
			}
			v := mt.GetCounter().GetValue()
			switch f.GetName() {
			case "spass_requests_total":
				get(model).Requests += v
				if len(l["status"]) == 3 && l["status"] >= "400" {
					get(model).Errors += v
				}
			case "spass_tokens_total":
				switch l["kind"] {
				case "prompt":
					get(model).PromptTokens += v
				case "completion":
					get(model).CompletionTokens += v
				case "cached":
					get(model).CachedTokens += v
				}
			case "spass_cost_usd_total":
				get(model).CostUSD += v
			case "spass_cost_eur_total":
				get(model).CostEUR += v
			}
		}
	}
	return out, nil
}

func labels(m *dto.Metric) map[string]string {
	out := make(map[string]string, len(m.GetLabel()))
	for _, lp := range m.GetLabel() {
		out[lp.GetName()] = lp.GetValue()
	}
	return out
}
