package openai_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"spass/local/gatewaytest"
)

// declaredPNG is a PNG of a few dozen bytes whose header declares w x h pixels:
// the signature, an IHDR chunk and an empty IEND, with valid CRCs. Its pixels do
// not exist; only a decoder that trusts the header would allocate them.
func declaredPNG(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		b.WriteString(typ)
		b.Write(data)
		binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 0 // 8-bit greyscale
	chunk("IHDR", ihdr)
	chunk("IEND", nil)
	return b.Bytes()
}

// TestImagePixelBomb reproduces issue 11, item 7: a tiny PNG declaring
// 100000x100000 pixels was stored and would be inlined into vision requests. Now
// it is refused with invalid_image, and nothing is stored.
func TestImagePixelBomb(t *testing.T) {
	env := startImages(t, gatewaytest.Setup{})
	for name, data := range map[string][]byte{
		"100000x100000":       declaredPNG(100000, 100000),
		"one side over 16384": declaredPNG(16385, 10),
		"over 50 megapixels":  declaredPNG(8000, 7000),
	} {
		t.Run(name, func(t *testing.T) {
			if len(data) > 100 {
				t.Fatalf("the bomb is %d bytes", len(data))
			}
			ct, body := multipartBody(t, "file", data)
			e := expectError(t, send(t, env, gatewaytest.UserToken, "alice", "POST", "/v1/images", ct, body), 400, "invalid_image")
			if !strings.Contains(e.Error.Message, "megapixels") {
				t.Errorf("message %q does not say what the bound is", e.Error.Message)
			}
			expectError(t, send(t, env, gatewaytest.UserToken, "alice", "POST", "/v1/images", "image/png", data), 400, "invalid_image")
		})
	}
	if l := listed(t, env, gatewaytest.AdminToken, "alice"); len(l) != 0 {
		t.Fatalf("a refused image was stored: %+v", l)
	}
	if m := upload(t, env, gatewaytest.UserToken, "alice", pngOf(t, 4000, 3000)); m.Width != 4000 {
		t.Fatalf("a 12-megapixel image: %+v", m)
	}
}

// TestMultipartUserIDRefused reproduces issue 11, item 7: a multipart upload with a
// user_id field was accepted, although the JSON routes answer 400. The field is
// refused wherever it stands in the form, and nothing is stored.
func TestMultipartUserIDRefused(t *testing.T) {
	env := startImages(t, gatewaytest.Setup{})
	for _, fileFirst := range []bool{true, false} {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		writeFile := func() {
			fw, _ := mw.CreateFormFile("file", "a.png")
			fw.Write(pngOf(t, 2, 2))
		}
		if fileFirst {
			writeFile()
		}
		mw.WriteField("user_id", "bob")
		if !fileFirst {
			writeFile()
		}
		mw.Close()
		resp := send(t, env, gatewaytest.UserToken, "alice", "POST", "/v1/images", mw.FormDataContentType(), buf.Bytes())
		if e := expectError(t, resp, 400, "user_id_not_allowed"); e.Error.Param == nil || *e.Error.Param != "user_id" {
			t.Errorf("param %v", e.Error.Param)
		}
	}
	for _, user := range []string{"alice", "bob"} {
		if l := listed(t, env, gatewaytest.UserToken, user); len(l) != 0 {
			t.Fatalf("%s has images %+v", user, l)
		}
	}
}

// TestErrorsEchoNothingUnbounded: an unknown model id in a path (up to the header
// limit, 1 MB) came back whole in the 404's message; now it is clipped.
func TestErrorsEchoNothingUnbounded(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	long := strings.Repeat("m", 500_000)
	req := env.Request(t, "GET", "/v1/models/"+long, "")
	resp := gatewaytest.Do(t, req)
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if body := readAll(t, resp); len(body) > 2048 || !strings.Contains(body, "model_not_found") {
		t.Fatalf("%d bytes: %.300s", len(body), body)
	}
}
