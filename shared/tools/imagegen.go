package tools

import (
	"context"
	"encoding/json"
	"errors"

	"spass/shared/apierr"
	"spass/shared/identity"
)

// ImageRef is a generated image as the image_gen tool reports it: its id in the
// image store and the gateway path that serves it, never the bytes, so a picture
// does not cost the model thousands of tokens of base64.
type ImageRef struct {
	ID            string `json:"id"`
	URL           string `json:"url"` // /v1/images/{id}
	Width         int    `json:"width,omitempty"`
	Height        int    `json:"height,omitempty"`
	RevisedPrompt string `json:"revised_prompt,omitempty"`
}

// ImageGenerator generates n images for p and keeps them in the image store (the
// gateway passes chat.Service.GenerateImages, billed as a sub-call). size may be
// empty for the tenant's default.
type ImageGenerator func(ctx context.Context, p Call, prompt, size string, n int) ([]ImageRef, error)

const imageGenSchema = `{
  "type": "object",
  "additionalProperties": false,
  "required": ["prompt"],
  "properties": {
    "prompt": {"type": "string", "minLength": 1, "maxLength": 4000, "description": "What the picture should show, in detail."},
    "size": {"type": "string", "pattern": "^[0-9]{2,4}x[0-9]{2,4}$", "description": "WIDTHxHEIGHT, e.g. 1024x1024 (default: the organisation's setting)."},
    "n": {"type": "integer", "minimum": 1, "maximum": 4, "description": "How many images (default 1)."}
  }
}`

// ImageGen returns the image_gen tool. The read-only role may not run it: every
// generated image is stored, which is a write.
func ImageGen(gen ImageGenerator) Tool {
	return Tool{
		Name: "image_gen",
		Description: "Generate images from a text description. The images are stored on the gateway; " +
			"the result gives each image's id and URL, which you can show to the user (as a Markdown image) or reference later.",
		Parameters: json.RawMessage(imageGenSchema),
		Roles:      []string{identity.RoleAdmin, identity.RoleTenantAdmin, identity.RoleUser},
		Execute: func(ctx context.Context, p Call, raw json.RawMessage) (any, error) {
			if gen == nil {
				return nil, Errorf("not_configured", "image generation is not available on this gateway")
			}
			var a struct {
				Prompt, Size string
				N            int
			}
			if err := decodeArgs(raw, &a); err != nil {
				return nil, err
			}
			refs, err := gen(ctx, p, a.Prompt, a.Size, max(a.N, 1))
			if err != nil {
				return nil, imageGenError(err)
			}
			return map[string]any{"images": refs}, nil
		},
	}
}

// imageGenError turns the pipeline's catalog errors into tool errors with the
// client-safe message (a bad size, no image model, a backend down), so the model
// can adjust or tell the user; anything else stays a plain failure.
func imageGenError(err error) error {
	var te *Error
	if errors.As(err, &te) {
		return te
	}
	var ae *apierr.Error
	if !errors.As(err, &ae) {
		return err
	}
	msg := ae.Message
	if msg == "" {
		msg = apierr.Lookup(ae.Code).Message
	}
	code := "image_failed"
	if ae.Status() < 500 && ae.Param != "" {
		code = "invalid_arguments"
	}
	return Errorf(code, "%s", msg)
}
