package chat

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"spass/shared/apierr"
	"spass/shared/identity"
)

// HeaderSystemPrompt names a stored system prompt to put in front of the messages.
const HeaderSystemPrompt = "SPASS-System-Prompt"

// ImageRefPrefix marks an image_url that points at the gateway's image store:
// "spass://images/<id>" is replaced by the image as a data URL before routing.
const ImageRefPrefix = "spass://images/"

// Prompts resolves named system prompts: the user's own first, then the tenant's.
type Prompts interface {
	ResolveSystemPrompt(ctx context.Context, tenant, user, name string) (string, bool, error)
}

// Images reads stored images for vision requests; a non-empty user limits the
// lookup to that user's images.
type Images interface {
	ImageBytes(ctx context.Context, tenant, user, id string) (contentType string, data []byte, ok bool, err error)
}

// Prepare applies the gateway's request extensions to a parsed chat request: the
// named system prompt and references to stored images. Requests that use neither
// are not touched.
func (s *Service) Prepare(ctx context.Context, p identity.Principal, req *Request, promptName string) error {
	if promptName != "" {
		if err := s.prependPrompt(ctx, p, req, promptName); err != nil {
			return err
		}
	}
	if bytes.Contains(req.Raw, []byte(ImageRefPrefix)) {
		return s.inlineImages(ctx, p, req)
	}
	return nil
}

func (s *Service) prependPrompt(ctx context.Context, p identity.Principal, req *Request, name string) error {
	if s.Prompts == nil {
		return apierr.E(apierr.NotConfigured, "System prompts are not available.", nil)
	}
	text, ok, err := s.Prompts.ResolveSystemPrompt(ctx, p.Tenant, p.User, name)
	if err != nil {
		return apierr.E(apierr.Internal, "", err)
	}
	if !ok {
		return apierr.P(apierr.SystemPromptNotFound, HeaderSystemPrompt, "No system prompt named "+apierr.Quote(name)+".")
	}
	sys, _ := json.Marshal(map[string]string{"role": "system", "content": text})
	msgs := strings.TrimSpace(gjson.GetBytes(req.Raw, "messages").Raw)
	raw, err := sjson.SetRawBytes(req.Raw, "messages", []byte("["+string(sys)+","+msgs[1:]))
	if err != nil {
		return apierr.E(apierr.Internal, "", err)
	}
	req.Raw = raw
	return nil
}

// inlineImages replaces spass://images/<id> URLs with data URLs of the tenant's images.
func (s *Service) inlineImages(ctx context.Context, p identity.Principal, req *Request) error {
	type ref struct{ path, id string }
	var refs []ref
	gjson.GetBytes(req.Raw, "messages").ForEach(func(mi, m gjson.Result) bool {
		m.Get("content").ForEach(func(pi, part gjson.Result) bool {
			if u := part.Get("image_url.url").Str; strings.HasPrefix(u, ImageRefPrefix) {
				refs = append(refs, ref{fmt.Sprintf("messages.%d.content.%d.image_url.url", mi.Int(), pi.Int()), strings.TrimPrefix(u, ImageRefPrefix)})
			}
			return true
		})
		return true
	})
	for _, r := range refs {
		if s.Images == nil {
			return apierr.E(apierr.NotConfigured, "The image store is not available.", nil)
		}
		owner := p.User // users reference their own images; admins any of the tenant's
		if p.CanWrite() {
			owner = ""
		}
		ct, data, ok, err := s.Images.ImageBytes(ctx, p.Tenant, owner, r.id)
		if err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		if !ok {
			return apierr.P(apierr.ImageNotFound, "messages", "No stored image "+apierr.Quote(r.id)+".")
		}
		url := "data:" + ct + ";base64," + base64.StdEncoding.EncodeToString(data)
		if req.Raw, err = sjson.SetBytes(req.Raw, r.path, url); err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
	}
	return nil
}
