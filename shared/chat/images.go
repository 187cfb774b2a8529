package chat

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"spass/shared/apierr"
	"spass/shared/backend"
	"spass/shared/billing"
	"spass/shared/identity"
	"spass/shared/media"
	"spass/shared/requestid"
	"spass/shared/router"
	"spass/shared/tenantcfg"
)

// ImageRequest is one image generation, from POST /v1/images/generations or the
// image_gen tool.
type ImageRequest struct {
	// Raw is the client's JSON body, forwarded with the gateway's fields set so
	// provider options (quality, style, ...) pass through; nil for in-process callers.
	Raw    []byte
	Model  string // "": the tenant's image_gen.model, else the first image model
	Prompt string
	N      int    // 0: 1
	Size   string // "": the tenant's image_gen.size
	// ResponseFormat is what the client wants back (b64_json or url); upstream is
	// always asked for b64_json, since every image is kept in the image store.
	ResponseFormat string
	// SubCall bills the generation as a sub-call of the request in ctx (the
	// image_gen tool inside a chat's tool loop) rather than as the request itself.
	SubCall bool
}

// GeneratedImage is one generated image, already in the image store.
type GeneratedImage struct {
	Image         media.Image
	RevisedPrompt string
}

// ImageResult is how a generation was served and what it produced.
type ImageResult struct {
	Result
	Created int64 // unix seconds, as the backend reported
	Images  []GeneratedImage
}

// ImageSaver is the optional write side of Service.Images: where generated images
// are kept. *store.DB implements both.
type ImageSaver interface {
	PutImage(ctx context.Context, img *media.Image) error
}

// maxImagePrompt is OpenAI's longest prompt (gpt-image-1's 32,000 characters).
const maxImagePrompt = 32000

// imageSize is the WxH form OpenAI uses.
var imageSize = regexp.MustCompile(`^(\d{2,4})x(\d{2,4})$`)

// ParseImages validates a /v1/images/generations body without re-encoding it.
func ParseImages(body []byte) (*ImageRequest, error) {
	if err := checkObject(body); err != nil {
		return nil, err
	}
	names := []string{"prompt", "model", "size", "response_format", "n"}
	f := gjson.GetManyBytes(body, names...)
	if f[0].Type != gjson.String || f[0].Str == "" {
		return nil, apierr.P(apierr.MissingParameter, "prompt", "You must provide a prompt.")
	}
	if len(f[0].Str) > maxImagePrompt {
		return nil, apierr.P(apierr.InvalidRequest, "prompt", fmt.Sprintf("prompt must be at most %d bytes.", maxImagePrompt))
	}
	for i, v := range f[1:4] {
		if v.Exists() && v.Type != gjson.Null && v.Type != gjson.String {
			return nil, apierr.P(apierr.InvalidRequest, names[i+1], names[i+1]+" must be a string.")
		}
	}
	req := &ImageRequest{Raw: body, Prompt: f[0].Str, Model: f[1].Str, Size: f[2].Str, ResponseFormat: f[3].Str}
	if n := f[4]; n.Exists() && n.Type != gjson.Null {
		if n.Type != gjson.Number || n.Num != float64(int(n.Num)) {
			return nil, apierr.P(apierr.InvalidRequest, "n", "n must be an integer.")
		}
		if req.N = int(n.Num); req.N < 1 {
			return nil, apierr.P(apierr.InvalidRequest, "n", "n must be at least 1.")
		}
	}
	if req.ResponseFormat != "" && req.ResponseFormat != "b64_json" && req.ResponseFormat != "url" {
		return nil, apierr.P(apierr.InvalidRequest, "response_format", "response_format must be b64_json or url.")
	}
	return req, nil
}

// GenerateImages runs an image generation along the model's tier chain (backends
// with the images capability; 501 capability_not_supported when none has it),
// keeps every image in the image store (Service.Images must be an ImageSaver) and
// bills one ledger row. h receives the rate-limit headers; it may be nil.
func (s *Service) GenerateImages(ctx context.Context, p identity.Principal, req ImageRequest, opts Options, h http.Header) (ImageResult, error) {
	id := requestid.From(ctx) // a sub-call bills under its parent's id (see billImages)
	if !req.SubCall || id == "" {
		ctx, id = requestid.Claim(ctx)
	}
	saver, ok := s.Images.(ImageSaver)
	if !ok {
		return ImageResult{}, apierr.E(apierr.NotConfigured, "The image store is not available.", nil)
	}
	var eff *tenantcfg.Effective
	if s.Settings != nil {
		var err error
		if eff, err = s.Settings.Effective(ctx, p.Tenant); err != nil {
			return ImageResult{}, err
		}
	}
	m, err := s.imageModel(eff, req.Model)
	if err != nil {
		return ImageResult{Result: Result{Model: req.Model}}, err
	}
	res := ImageResult{Result: Result{RequestID: id, Model: m.ID}}
	if req.N == 0 {
		req.N = 1
	}
	maxN := 4
	if eff != nil {
		maxN = int(eff.Int(tenantcfg.ImageMaxN))
		req.Size = cmp.Or(req.Size, eff.String(tenantcfg.ImageSize))
	}
	if req.N < 1 || req.N > maxN {
		return res, apierr.P(apierr.InvalidRequest, "n", fmt.Sprintf("n must be between 1 and %d.", maxN))
	}
	req.Size = cmp.Or(req.Size, "1024x1024")
	if !validImageSize(req.Size) {
		return res, apierr.P(apierr.InvalidRequest, "size", "size must be WIDTHxHEIGHT with sides from 16 to 4096, e.g. 1024x1024.")
	}
	if s.Limiter != nil && eff != nil && !req.SubCall {
		if h == nil {
			h = http.Header{}
		}
		done, err := s.Limiter.Admit(ctx, p, eff, h)
		if err != nil {
			return res, err
		}
		defer done(0)
	}
	start := time.Now()
	served, err := s.Router.Do(ctx, m, []backend.Capability{backend.Images}, opts.Filter, func(ctx context.Context, t router.Target, _ int) error {
		body, err := imageBody(req, t.Model)
		if err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		out, err := (&call{s: s}).fetch(ctx, t, "/images/generations", body)
		if err != nil {
			return err
		}
		res.Created, res.Images, err = s.keepImages(ctx, p, saver, t, req.Prompt, out)
		return err
	})
	res.Fallbacks = served.Fallbacks
	if served.Target.Backend != nil {
		res.Backend, res.Tier = served.Target.Backend.Name, served.Target.Tier
	}
	status := http.StatusOK
	if err != nil {
		status = apierr.From(err).Status()
	}
	s.billImages(ctx, p, &opts, req.SubCall, res.Result, status, time.Since(start))
	return res, err
}

// imageModel picks the model: the requested one, the tenant's image_gen.model, or
// the first image model the tenant may use.
func (s *Service) imageModel(eff *tenantcfg.Effective, id string) (*router.Model, error) {
	if id == "" && eff != nil {
		id = eff.String(tenantcfg.ImageModel)
	}
	if id == "" {
		for _, m := range s.Router.Models() {
			if m.Type == "image" && (eff == nil || eff.ModelAllowed(m.ID)) {
				return m, nil
			}
		}
		return nil, apierr.P(apierr.NotConfigured, "model", "No image model is configured on this gateway.")
	}
	m := s.Router.Model(id)
	if m == nil || m.Type != "image" {
		return nil, ModelNotFound(id)
	}
	if eff != nil && !eff.ModelAllowed(id) {
		return nil, apierr.P(apierr.ModelNotAllowed, "model", "Your tenant may not use the model "+apierr.Quote(id)+".")
	}
	return m, nil
}

func validImageSize(size string) bool {
	m := imageSize.FindStringSubmatch(size)
	if m == nil {
		return false
	}
	w, _ := strconv.Atoi(m[1])
	h, _ := strconv.Atoi(m[2])
	return w >= 16 && w <= 4096 && h >= 16 && h <= 4096
}

// imageBody is the upstream request: the client's body (or an empty one) with the
// upstream model id, the resolved n and size, and response_format b64_json.
func imageBody(req ImageRequest, upstreamModel string) ([]byte, error) {
	body := req.Raw
	if body == nil {
		body = []byte(`{}`)
	}
	var err error
	for _, kv := range []struct {
		k string
		v any
	}{{"model", upstreamModel}, {"prompt", req.Prompt}, {"n", req.N}, {"size", req.Size}, {"response_format", "b64_json"}} {
		if body, err = sjson.SetBytes(body, kv.k, kv.v); err != nil {
			return nil, err
		}
	}
	return body, nil
}

// keepImages decodes the backend's images and stores them. A reply without usable
// images is the backend's fault, so it falls back to the next tier; every image is
// checked before the first is stored, so such a reply leaves nothing behind.
func (s *Service) keepImages(ctx context.Context, p identity.Principal, saver ImageSaver, t router.Target, prompt string, out []byte) (int64, []GeneratedImage, error) {
	bad := func(why string) error {
		return &router.Failure{Status: http.StatusBadGateway, Cause: fmt.Errorf("backend %s: %s", t.Backend.Name, why)}
	}
	data := gjson.GetBytes(out, "data").Array()
	if len(data) == 0 {
		return 0, nil, bad("no images in the reply")
	}
	imgs := make([]GeneratedImage, len(data))
	for i, d := range data {
		b, err := base64.StdEncoding.DecodeString(d.Get("b64_json").Str)
		if err != nil || len(b) == 0 {
			return 0, nil, bad("an image without valid b64_json")
		}
		if _, _, _, err := media.Inspect(b); err != nil {
			return 0, nil, bad(err.Error())
		}
		imgs[i] = GeneratedImage{RevisedPrompt: d.Get("revised_prompt").Str,
			Image: media.Image{TenantID: p.Tenant, UserID: p.User, Bytes: b, Source: media.SourceGenerated, Prompt: prompt}}
	}
	for i := range imgs {
		if err := saver.PutImage(ctx, &imgs[i].Image); err != nil {
			return 0, nil, apierr.E(apierr.Internal, "", err)
		}
	}
	created := gjson.GetBytes(out, "created").Int()
	if created == 0 {
		created = time.Now().Unix()
	}
	return created, imgs, nil
}

// billImages writes the generation's ledger row, as call.finish does for chat: a
// request of its own, or a sub-call of the chat request whose tool asked for it.
// Image backends report no tokens, so the row carries the count of the call only.
func (s *Service) billImages(ctx context.Context, p identity.Principal, opts *Options, sub bool, res Result, status int, latency time.Duration) {
	if s.Billing == nil {
		return
	}
	e := billing.Entry{Tenant: p.Tenant, User: p.User, RequestID: res.RequestID, Route: "images",
		Surface: string(opts.surface()), Ref: opts.Ref,
		Model: res.Model, Backend: res.Backend, Tier: res.Tier, Status: status, Latency: latency}
	if sub {
		var b [4]byte
		rand.Read(b[:])
		e.ParentRequestID, e.RequestID = e.RequestID, e.RequestID+"-img-"+hex.EncodeToString(b[:])
	}
	if err := s.Billing.Bill(context.WithoutCancel(ctx), e); err != nil {
		slog.Error("billing an image generation failed", "request_id", e.RequestID, "err", err)
	}
}
