package openai

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"spass/shared/apierr"
	"spass/shared/auth"
	"spass/shared/chat"
	"spass/shared/identity"
	"spass/shared/media"
	"spass/shared/store"
	"spass/shared/web"
)

// The image store's permission model: images belong to the end user
// (SPASS-User-Id) who uploaded or generated them. Roles user and read-only see
// only their own; admin and tenant_admin see and delete every image of the tenant.
// read-only never creates or deletes. Another tenant's or another user's image id
// reads as image_not_found, so ids reveal nothing.

// imageObject is an image's metadata on the wire.
type imageObject struct {
	ID          string `json:"id"`
	Object      string `json:"object"`
	ContentType string `json:"content_type"`
	Bytes       int64  `json:"bytes"`
	Width       int    `json:"width"`
	Height      int    `json:"height"`
	Source      string `json:"source"`
	Prompt      string `json:"prompt,omitempty"`
	CreatedAt   int64  `json:"created_at"`
	URL         string `json:"url"`
}

func toImageObject(r *http.Request, img media.Image) imageObject {
	return imageObject{ID: img.ID, Object: "image", ContentType: img.ContentType, Bytes: img.Size, Width: img.Width,
		Height: img.Height, Source: img.Source, Prompt: img.Prompt, CreatedAt: img.CreatedAt / 1000, URL: imageURL(r, img.ID)}
}

// imageURL is the absolute URL of GET /v1/images/{id} as the client reached this
// gateway (Host, and X-Forwarded-Proto behind a TLS-terminating proxy). Fetching
// it needs the same bearer token and SPASS-User-Id as any /v1 call: the URL is a
// handle, not a capability.
func imageURL(r *http.Request, id string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ","); p == "http" || p == "https" {
		scheme = p
	}
	return scheme + "://" + r.Host + "/v1/images/" + id
}

// imageOwner is the user filter for p's reads and deletes: "" (the whole tenant)
// for admins, p's own user otherwise.
func imageOwner(p identity.Principal) string {
	if p.CanWrite() {
		return ""
	}
	return p.User
}

func denyReadOnly(p identity.Principal, what string) error {
	if p.Role == identity.RoleReadOnly {
		return apierr.E(apierr.PermissionDenied, "The read-only role may not "+what+".", nil)
	}
	return nil
}

// imageData is one entry of OpenAI's ImagesResponse.
type imageData struct {
	B64JSON       string `json:"b64_json,omitempty"`
	URL           string `json:"url,omitempty"`
	RevisedPrompt string `json:"revised_prompt,omitempty"`
}

// generateImages serves "POST /v1/images/generations". Every image is kept in the
// image store, so response_format url points at this gateway, not at the backend.
func generateImages(c *chat.Service) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := auth.From(r.Context())
		if err := denyReadOnly(p, "generate images"); err != nil {
			return err
		}
		body, err := web.ReadBody(r)
		if err != nil {
			return err
		}
		req, err := chat.ParseImages(body)
		if err != nil {
			return err
		}
		res, err := c.GenerateImages(r.Context(), p, *req, chat.Options{}, w.Header())
		trace(r, res.Result)
		if err != nil {
			return err
		}
		out := struct {
			Created int64       `json:"created"`
			Data    []imageData `json:"data"`
		}{Created: res.Created, Data: make([]imageData, len(res.Images))}
		for i, img := range res.Images {
			out.Data[i].RevisedPrompt = img.RevisedPrompt
			if req.ResponseFormat == "url" {
				out.Data[i].URL = imageURL(r, img.Image.ID)
			} else {
				out.Data[i].B64JSON = base64.StdEncoding.EncodeToString(img.Image.Bytes)
			}
		}
		h := w.Header()
		h.Set(chat.HeaderBackend, res.Backend)
		h.Set(chat.HeaderTier, "T"+strconv.Itoa(res.Tier))
		h.Set(chat.HeaderFallbacks, strconv.Itoa(res.Fallbacks))
		return web.JSON(w, http.StatusOK, out)
	}
}

// uploadImage serves "POST /v1/images": an image for later vision requests, as the
// multipart field "file" or as a raw body with an image/* Content-Type.
func uploadImage(db *store.DB) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := auth.From(r.Context())
		if err := denyReadOnly(p, "upload images"); err != nil {
			return err
		}
		data, err := readImage(w, r)
		if err != nil {
			return err
		}
		img := media.Image{TenantID: p.Tenant, UserID: p.User, Bytes: data, Source: media.SourceUpload}
		switch err := db.PutImage(r.Context(), &img); {
		case errors.Is(err, media.ErrImageType):
			return apierr.P(apierr.InvalidImage, "file", "The file is not a PNG, JPEG, GIF or WebP image.")
		case errors.Is(err, media.ErrImageTooLarge):
			return tooLarge()
		case errors.Is(err, media.ErrImageDimensions):
			return apierr.P(apierr.InvalidImage, "file", fmt.Sprintf("The image may have at most %d megapixels and %d pixels a side.",
				media.MaxImagePixels/1_000_000, media.MaxImageSide))
		case err != nil:
			return apierr.E(apierr.Internal, "", err)
		}
		return web.JSON(w, http.StatusCreated, toImageObject(r, img))
	}
}

func tooLarge() error {
	return apierr.E(apierr.BodyTooLarge, "Images may be at most 10 MiB.", nil)
}

// readImage returns the uploaded file's bytes, at most media.MaxImageBytes.
func readImage(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	limit := int64(media.MaxImageBytes)
	switch {
	case ct == "multipart/form-data" && params["boundary"] != "":
		r.Body = http.MaxBytesReader(w, r.Body, limit+64<<10) // room for the part headers
		return readForm(r, limit)
	case strings.HasPrefix(ct, "image/"):
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		return readLimited(r.Body, limit)
	}
	return nil, apierr.P(apierr.InvalidImage, "file", "Send multipart/form-data with a file field, or the raw image with its image/* Content-Type.")
}

// readForm reads every part of a multipart upload and returns the field "file".
// The whole form is read, so a user_id field is refused wherever it stands: the
// end user is named by SPASS-User-Id only, as on the JSON routes.
func readForm(r *http.Request, limit int64) ([]byte, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, apierr.P(apierr.InvalidRequest, "file", "The multipart body could not be read.")
	}
	var file []byte
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, uploadError(err, "The multipart body could not be read.")
		}
		switch part.FormName() {
		case "user_id":
			return nil, apierr.P(apierr.UserIDInBody, "user_id", "")
		case "file":
			if file != nil {
				return nil, apierr.P(apierr.InvalidRequest, "file", "Send one field named file.")
			}
			if file, err = readLimited(part, limit); err != nil {
				return nil, err
			}
		}
	}
	if file == nil {
		return nil, apierr.P(apierr.InvalidRequest, "file", "The multipart body has no field named file.")
	}
	return file, nil
}

func readLimited(rd io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(rd, limit+1))
	if err != nil {
		return nil, uploadError(err, "The upload could not be read.")
	}
	if int64(len(b)) > limit {
		return nil, tooLarge()
	}
	return b, nil
}

// uploadError maps a body read failure: past the byte limit is 413, past the
// server's body deadline 408, the rest 400.
func uploadError(err error, msg string) error {
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return tooLarge()
	case errors.Is(err, os.ErrDeadlineExceeded):
		return web.BodyError(err)
	}
	return apierr.P(apierr.InvalidRequest, "file", msg)
}

// listImages serves "GET /v1/images?limit=": metadata, newest first.
func listImages(db *store.DB) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := auth.From(r.Context())
		limit, err := web.QueryLimit(r, 50, 200)
		if err != nil {
			return err
		}
		imgs, err := db.Images(r.Context(), p.Tenant, imageOwner(p), limit)
		if err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		out := struct {
			Object string        `json:"object"`
			Data   []imageObject `json:"data"`
		}{Object: "list", Data: make([]imageObject, len(imgs))}
		for i, img := range imgs {
			out.Data[i] = toImageObject(r, img)
		}
		return web.JSON(w, http.StatusOK, out)
	}
}

// imageByID serves "GET /v1/images/{id}" (the bytes) and "DELETE /v1/images/{id}".
// It is mounted for every method: the dev shim adds a method-less 405 route per
// path, and a method-less "/v1/images/generations" would conflict with
// "GET /v1/images/{id}" on a ServeMux (neither is more specific).
func imageByID(db *store.DB) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := auth.From(r.Context())
		id := r.PathValue("id")
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			img, ok, err := db.Image(r.Context(), p.Tenant, imageOwner(p), id)
			if err != nil {
				return apierr.E(apierr.Internal, "", err)
			}
			if !ok {
				return imageNotFound(id)
			}
			h := w.Header()
			h.Set("Content-Type", img.ContentType)
			h.Set("Content-Length", strconv.FormatInt(img.Size, 10))
			h.Set("Cache-Control", "private, max-age=86400") // ids are never reused; the bytes never change
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Last-Modified", time.UnixMilli(img.CreatedAt).UTC().Format(http.TimeFormat))
			w.WriteHeader(http.StatusOK)
			if r.Method == http.MethodGet {
				w.Write(img.Bytes)
			}
			return nil
		case http.MethodDelete:
			if err := denyReadOnly(p, "delete images"); err != nil {
				return err
			}
			gone, err := db.DeleteImage(r.Context(), p.Tenant, imageOwner(p), id)
			if err != nil {
				return apierr.E(apierr.Internal, "", err)
			}
			if !gone {
				return imageNotFound(id)
			}
			return web.JSON(w, http.StatusOK, map[string]any{"id": id, "object": "image.deleted", "deleted": true})
		}
		w.Header().Set("Allow", "GET, HEAD, DELETE")
		return apierr.E(apierr.MethodNotAllowed, "", nil)
	}
}

func imageNotFound(id string) error {
	return apierr.P(apierr.ImageNotFound, "id", "No stored image "+apierr.Quote(id)+".")
}
