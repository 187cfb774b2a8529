package openai

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"spass/shared/apierr"
	"spass/shared/app"
	"spass/shared/auth"
	"spass/shared/backend"
	"spass/shared/billing"
	"spass/shared/chat"
	"spass/shared/router"
	"spass/shared/tenantcfg"
	"spass/shared/web"
)

// moderations serves "POST /v1/moderations". A model whose chain has a backend
// with the moderation capability (OpenAI, the simulator) answers itself; a chat
// model answers as a Llama Guard style classifier (see classify). The model is
// the request's, else the tenant's moderation.model, else the first moderation
// model the tenant may use.
func moderations(a *app.App) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		body, err := readJSON(r, "model", "input")
		if err != nil {
			return err
		}
		model, err := stringField(body, "model", false)
		if err != nil {
			return err
		}
		inputs, err := moderationInputs(gjson.GetBytes(body, "input"))
		if err != nil {
			return err
		}
		if model == "" {
			if model, err = moderationModel(r.Context(), a); err != nil {
				return err
			}
		}
		rl, ctx, err := openRelayed(r.Context(), a, w.Header(), "moderations", model, backend.Moderation)
		if err != nil {
			return err
		}
		if !chainCan(rl.m, backend.Moderation) && rl.m.Serves("chat") {
			out, err := classify(ctx, a, rl, inputs)
			rl.finish(ctx, err, billing.Tokens{}, false) // the classifier's rounds are billed as sub-calls
			if err != nil {
				return err
			}
			return web.JSON(w, http.StatusOK, out)
		}
		var u billing.Tokens
		reported := false
		err = rl.run(ctx, w.Header(), func(ctx context.Context, t router.Target) error {
			up, err := sjson.SetBytes(body, "model", t.Model)
			if err != nil {
				return apierr.E(apierr.Internal, "", err)
			}
			out, err := rl.fetchJSON(ctx, t, "/moderations", true, up)
			if err != nil {
				return err
			}
			if u, reported = usageOf(gjson.GetBytes(out, "usage")); !reported {
				u = billing.Tokens{Prompt: int64(max(len(strings.Join(inputs, " "))/4, 1))}
			}
			rl.served(w.Header(), t)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			w.Write(out)
			return nil
		})
		rl.finish(ctx, err, u, err == nil && !reported)
		return err
	}
}

// moderationModel is the tenant's moderation.model, else the first model of type
// moderation the tenant may use.
func moderationModel(ctx context.Context, a *app.App) (string, error) {
	eff, err := a.Settings.Effective(ctx, auth.From(ctx).Tenant)
	if err != nil {
		return "", err
	}
	if m := eff.String(tenantcfg.ModerationModel); m != "" {
		return m, nil
	}
	for _, m := range a.Router.Models() {
		if m.Type == "moderation" && eff.ModelAllowed(m.ID) {
			return m.ID, nil
		}
	}
	return "", apierr.P(apierr.NotConfigured, "model", "No moderation model is configured: name one, or ask a tenant admin to set moderation.model.")
}

// moderationInputs reads input: a string, an array of strings, or an array of
// parts ({type: text, text} and {type: image_url}, whose images only a backend's
// own moderation reads).
func moderationInputs(v gjson.Result) ([]string, error) {
	bad := apierr.P(apierr.InvalidRequest, "input", "input must be a string, an array of strings, or an array of text and image_url parts.")
	switch {
	case !v.Exists() || v.Type == gjson.Null:
		return nil, apierr.P(apierr.MissingParameter, "input", "You must provide input.")
	case v.Type == gjson.String:
		return []string{v.Str}, nil
	case !v.IsArray():
		return nil, bad
	}
	var out []string
	for _, it := range v.Array() {
		switch {
		case it.Type == gjson.String:
			out = append(out, it.Str)
		case it.IsObject() && it.Get("type").Str == "text" && it.Get("text").Type == gjson.String:
			out = append(out, it.Get("text").Str)
		case it.IsObject() && it.Get("type").Str == "image_url":
		default:
			return nil, bad
		}
	}
	if len(v.Array()) == 0 {
		return nil, bad
	}
	if len(out) > 32 {
		return nil, apierr.P(apierr.InvalidRequest, "input", "input may hold at most 32 texts.")
	}
	return out, nil
}

func chainCan(m *router.Model, c backend.Capability) bool {
	for _, t := range m.Targets {
		if t.Backend.Can(c) {
			return true
		}
	}
	return false
}

// moderationResult is one result of OpenAI's moderation object.
type moderationResult struct {
	Flagged        bool                `json:"flagged"`
	Categories     map[string]bool     `json:"categories"`
	CategoryScores map[string]float64  `json:"category_scores"`
	AppliedTypes   map[string][]string `json:"category_applied_input_types"`
	// Hazards are the classifier's own codes (S1...), which say more than the
	// mapped categories; not in OpenAI's object.
	Hazards []string `json:"hazards,omitempty"`
}

// moderationCategories are OpenAI's categories, in its order.
var moderationCategories = []string{"harassment", "harassment/threatening", "hate", "hate/threatening", "illicit",
	"illicit/violent", "self-harm", "self-harm/intent", "self-harm/instructions", "sexual", "sexual/minors",
	"violence", "violence/graphic"}

// Llama Guard 3's hazard codes mapped to OpenAI's categories. S5 defamation, S6
// specialized advice, S7 privacy, S8 intellectual property, S13 elections and S14
// code interpreter abuse have no OpenAI category: they flag the input and are
// listed in hazards.
var hazardCategories = map[string][]string{
	"S1":  {"violence"},
	"S2":  {"illicit"},
	"S3":  {"sexual", "illicit"},
	"S4":  {"sexual/minors"},
	"S9":  {"illicit/violent", "violence"},
	"S10": {"hate"},
	"S11": {"self-harm"},
	"S12": {"sexual"},
}

// verdict maps a Llama Guard answer ("safe", or "unsafe" and a line of hazard
// codes) to a moderation result. An answer that is neither is the backend's
// fault (an unfit model), not the input's.
func verdict(answer string) (moderationResult, bool) {
	res := moderationResult{Categories: map[string]bool{}, CategoryScores: map[string]float64{}, AppliedTypes: map[string][]string{}}
	for _, c := range moderationCategories {
		res.Categories[c] = false
		res.CategoryScores[c] = 0
		res.AppliedTypes[c] = []string{}
	}
	lines := strings.Fields(strings.ToLower(strings.TrimSpace(answer)))
	if len(lines) == 0 {
		return res, false
	}
	switch lines[0] {
	case "safe":
		return res, true
	case "unsafe":
	default:
		return res, false
	}
	res.Flagged = true
	for _, f := range lines[1:] {
		for _, code := range strings.Split(f, ",") {
			code = strings.ToUpper(strings.TrimSpace(code))
			if code == "" {
				continue
			}
			res.Hazards = append(res.Hazards, code)
			for _, c := range hazardCategories[code] {
				res.Categories[c], res.CategoryScores[c], res.AppliedTypes[c] = true, 1, []string{"text"}
			}
		}
	}
	return res, true
}

// classify asks the chat model about each input through the chat core (policy,
// fallback along the chain, billing as sub-calls of the moderation request),
// and maps its verdicts. The model's chat template (Llama Guard's) frames the
// message as a conversation to judge.
func classify(ctx context.Context, a *app.App, rl *relayed, inputs []string) (any, error) {
	results := make([]moderationResult, len(inputs))
	for i, text := range inputs {
		body, _ := json.Marshal(map[string]any{"model": rl.m.ID, "temperature": 0, "max_tokens": 32,
			"messages": []map[string]string{{"role": "user", "content": text}}})
		req, err := chat.ParseChat(body)
		if err != nil {
			return nil, err
		}
		// No stack tools; billed as a sub-call of the moderation request.
		opts := chat.Options{Tools: chat.ToolPolicy{None: true}, Parent: rl.res.RequestID}
		res, err := a.Chat.Complete(ctx, rl.p, req, opts, &chat.Memory{})
		rl.res.Backend, rl.res.Tier, rl.res.Fallbacks = res.Backend, res.Tier, res.Fallbacks
		if err != nil {
			return nil, err
		}
		reply := res.Reply()
		var ok bool
		if results[i], ok = verdict(reply.Message.Text()); !ok {
			return nil, apierr.E(apierr.UpstreamError, "The moderation model "+apierr.Quote(rl.m.ID)+" did not answer safe or unsafe; is it a Llama Guard style classifier?", nil)
		}
	}
	return map[string]any{"id": "modr-" + strings.TrimPrefix(rl.res.RequestID, "req_"), "model": rl.m.ID, "results": results}, nil
}
