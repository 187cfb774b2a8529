package simulator

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"
)

type imageResponse struct {
	Created int64 `json:"created"`
	Data    []struct {
		B64JSON       string `json:"b64_json"`
		URL           string `json:"url"`
		RevisedPrompt string `json:"revised_prompt"`
	} `json:"data"`
}

// decodePNG decodes data strictly as a PNG and returns its size.
func decodePNG(t *testing.T, data []byte) image.Point {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	return img.Bounds().Size()
}

func TestImagesBase64(t *testing.T) {
	_, ts := start(t, Options{})
	tests := []struct {
		size string
		want image.Point
	}{
		{"", image.Pt(256, 256)},
		{"64x32", image.Pt(64, 32)},
		{"2048x4", image.Pt(1024, 4)},
	}
	for _, tt := range tests {
		resp := decode[imageResponse](t, post(t, ts, "/v1/images/generations",
			object{"prompt": "a red fox", "size": tt.size, "n": 2}), http.StatusOK)
		if resp.Created <= 0 || len(resp.Data) != 2 {
			t.Fatalf("size %q: created %d with %d images, want 2", tt.size, resp.Created, len(resp.Data))
		}
		var images [][]byte
		for _, d := range resp.Data {
			if d.RevisedPrompt != "a red fox" || d.URL != "" {
				t.Errorf("revised_prompt %q, url %q", d.RevisedPrompt, d.URL)
			}
			data, err := base64.StdEncoding.DecodeString(d.B64JSON)
			if err != nil {
				t.Fatal(err)
			}
			if got := decodePNG(t, data); got != tt.want {
				t.Errorf("size %q: image is %v, want %v", tt.size, got, tt.want)
			}
			images = append(images, data)
		}
		if bytes.Equal(images[0], images[1]) {
			t.Errorf("size %q: the two images are identical", tt.size)
		}
	}
}

func TestImagesURL(t *testing.T) {
	_, ts := start(t, Options{})
	resp := decode[imageResponse](t, post(t, ts, "/v1/images/generations",
		object{"prompt": "a blue whale", "size": "16x48", "response_format": "url"}), http.StatusOK)
	if len(resp.Data) != 1 || resp.Data[0].B64JSON != "" {
		t.Fatalf("data = %+v, want one URL", resp.Data)
	}
	url := resp.Data[0].URL
	if !strings.HasPrefix(url, ts.URL+"/sim/images/") {
		t.Fatalf("url %q is not served by the simulator at %s", url, ts.URL)
	}
	img, err := ts.Client().Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Body.Close()
	data, err := io.ReadAll(img.Body)
	if err != nil {
		t.Fatal(err)
	}
	if img.StatusCode != http.StatusOK || img.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("GET %s: %d %s", url, img.StatusCode, img.Header.Get("Content-Type"))
	}
	if got := decodePNG(t, data); got != image.Pt(16, 48) {
		t.Errorf("image is %v, want 16x48", got)
	}

	checkAPIError(t, get(t, ts, "/sim/images/999-0.png"), http.StatusNotFound, "")
}

func TestImagesErrors(t *testing.T) {
	_, ts := start(t, Options{})
	for name, body := range map[string]object{
		"missing prompt":  {"size": "8x8"},
		"bad size":        {"prompt": "p", "size": "big"},
		"bad n":           {"prompt": "p", "n": 11},
		"bad format":      {"prompt": "p", "response_format": "gif"},
		"negative size":   {"prompt": "p", "size": "-1x8"},
		"zero images (n)": {"prompt": "p", "n": 0},
	} {
		resp := post(t, ts, "/v1/images/generations", body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", name, resp.StatusCode)
		}
	}
}

func TestImageStoreEvictsOldest(t *testing.T) {
	st := newImageStore(2)
	for _, id := range []string{"a", "b", "c"} {
		st.put(id, []byte(id))
	}
	if _, ok := st.get("a"); ok {
		t.Error("oldest image was kept beyond the limit")
	}
	if data, ok := st.get("c"); !ok || string(data) != "c" {
		t.Error("newest image was not kept")
	}
}
