package simulator

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	defaultImageSide = 256
	maxImageSide     = 1024
	maxImagesPerCall = 10
	// maxStoredImages bounds the memory held for response_format "url";
	// older images are forgotten first.
	maxStoredImages = 64
)

type imageRequest struct {
	Prompt         string `json:"prompt"`
	N              *int   `json:"n"`
	Size           string `json:"size"`
	ResponseFormat string `json:"response_format"`
}

type imagesResponse struct {
	Created int64          `json:"created"`
	Data    []imageDataRef `json:"data"`
}

type imageDataRef struct {
	B64JSON       string `json:"b64_json,omitempty"`
	URL           string `json:"url,omitempty"`
	RevisedPrompt string `json:"revised_prompt"`
}

// handleImages implements POST /v1/images/generations. It renders real PNGs
// so that whatever the gateway does with them (proxying, storing, decoding)
// is exercised with genuine image data. Any model name is accepted, since
// image models are rarely among those a test configures.
func (s *Server) handleImages(x *exchange) {
	var req imageRequest
	if err := json.Unmarshal(x.body, &req); err != nil {
		x.fail(errInvalidJSON(err))
		return
	}
	if req.Prompt == "" {
		x.fail(errMissingParam("prompt"))
		return
	}
	n := 1
	if req.N != nil {
		n = *req.N
	}
	if n < 1 || n > maxImagesPerCall {
		x.fail(errInvalidParam("n", "n must be between 1 and %d, got %d", maxImagesPerCall, n))
		return
	}
	width, height, err := parseSize(req.Size)
	if err != nil {
		x.fail(errInvalidParam("size", "%v", err))
		return
	}
	if req.ResponseFormat != "" && req.ResponseFormat != "b64_json" && req.ResponseFormat != "url" {
		x.fail(errInvalidParam("response_format", "response_format must be b64_json or url, got %q", req.ResponseFormat))
		return
	}

	resp := imagesResponse{Created: time.Now().Unix(), Data: make([]imageDataRef, n)}
	for i := range n {
		data, err := renderPNG(req.Prompt, i, width, height)
		if err != nil {
			x.fail(errServer())
			return
		}
		ref := imageDataRef{RevisedPrompt: req.Prompt}
		if req.ResponseFormat == "url" {
			id := fmt.Sprintf("%d-%d", x.seq, i)
			s.images.put(id, data)
			ref.URL = imageURL(x.r, id)
		} else {
			ref.B64JSON = base64.StdEncoding.EncodeToString(data)
		}
		resp.Data[i] = ref
	}
	x.respond(resp)
}

// handleImageFile serves images generated with response_format "url".
func (s *Server) handleImageFile(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutSuffix(r.PathValue("file"), ".png")
	data, found := s.images.get(id)
	if !ok || !found {
		writeError(w, errNotFound(r))
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Write(data)
}

// imageURL is the absolute URL of a stored image, built from the Host the
// client used so that it resolves from the client's side of any proxy.
func imageURL(r *http.Request, id string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return fmt.Sprintf("%s://%s/sim/images/%s.png", scheme, r.Host, id)
}

// parseSize parses "WxH", clamping each side to maxImageSide. An empty size
// or "auto" means the default.
func parseSize(size string) (width, height int, err error) {
	if size == "" || size == "auto" {
		return defaultImageSide, defaultImageSide, nil
	}
	ws, hs, ok := strings.Cut(size, "x")
	width, werr := strconv.Atoi(ws)
	height, herr := strconv.Atoi(hs)
	if !ok || werr != nil || herr != nil || width < 1 || height < 1 {
		return 0, 0, fmt.Errorf("size must look like 256x256, got %q", size)
	}
	return min(width, maxImageSide), min(height, maxImageSide), nil
}

// renderPNG draws a gradient between four corner colours taken from a hash
// of the prompt and the image's index, so each image is deterministic and
// distinct.
func renderPNG(prompt string, index, width, height int) ([]byte, error) {
	sum := sha256.Sum256(fmt.Appendf(nil, "%d\x00%s", index, prompt))
	var corners [4]color.NRGBA
	for i := range corners {
		corners[i] = color.NRGBA{R: sum[3*i], G: sum[3*i+1], B: sum[3*i+2], A: 0xff}
	}
	img := image.NewNRGBA(image.Rect(0, 0, width, height))
	for y := range height {
		fy := fraction(y, height)
		left := mix(corners[0], corners[2], fy)
		right := mix(corners[1], corners[3], fy)
		for x := range width {
			img.SetNRGBA(x, y, mix(left, right, fraction(x, width)))
		}
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// fraction maps i in [0, n) onto [0, 1].
func fraction(i, n int) float64 {
	if n < 2 {
		return 0
	}
	return float64(i) / float64(n-1)
}

func mix(a, b color.NRGBA, t float64) color.NRGBA {
	lerp := func(p, q uint8) uint8 { return uint8(float64(p) + (float64(q)-float64(p))*t + 0.5) }
	return color.NRGBA{R: lerp(a.R, b.R), G: lerp(a.G, b.G), B: lerp(a.B, b.B), A: 0xff}
}

// imageStore keeps the most recent generated images for serving by URL.
type imageStore struct {
	mu    sync.Mutex
	limit int
	order []string // oldest first
	data  map[string][]byte
}

func newImageStore(limit int) *imageStore {
	return &imageStore{limit: limit, data: make(map[string][]byte)}
}

func (st *imageStore) put(id string, data []byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.order) == st.limit {
		delete(st.data, st.order[0])
		st.order = st.order[1:]
	}
	st.order = append(st.order, id)
	st.data[id] = data
}

func (st *imageStore) get(id string) ([]byte, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	data, ok := st.data[id]
	return data, ok
}
