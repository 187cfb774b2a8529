package store_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"

	"spass/shared/media"
	"spass/shared/store"
)

func encoded(t *testing.T, format string, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	var buf bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&buf, img)
	case "jpeg":
		err = jpeg.Encode(&buf, img, nil)
	case "gif":
		err = gif.Encode(&buf, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// webpHeader is the first 30 bytes of a WebP file with the given chunk and data.
func webpHeader(chunk string, data ...byte) []byte {
	b := append([]byte("RIFF\x00\x00\x00\x00WEBP"+chunk+"\x00\x00\x00\x00"), data...)
	for len(b) < 40 {
		b = append(b, 0)
	}
	return b
}

func TestInspectImage(t *testing.T) {
	for _, c := range []struct {
		name   string
		b      []byte
		ct     string
		w, h   int
		failed error
	}{
		{"png", encoded(t, "png", 3, 2), "image/png", 3, 2, nil},
		{"jpeg", encoded(t, "jpeg", 5, 4), "image/jpeg", 5, 4, nil},
		{"gif", encoded(t, "gif", 7, 6), "image/gif", 7, 6, nil},
		// VP8X: 24-bit width-1 and height-1 at offsets 24 and 27.
		{"webp VP8X", webpHeader("VP8X", 0, 0, 0, 0, 0x3f, 0x01, 0, 0xdf, 0, 0), "image/webp", 320, 224, nil},
		// VP8L: signature 0x2f, then 14 bits width-1 and 14 bits height-1.
		{"webp VP8L", webpHeader("VP8L", 0x2f, 0x63, 0xc0, 0x1f, 0), "image/webp", 100, 128, nil},
		// VP8: frame tag, start code 9d 01 2a, 14-bit width and height.
		{"webp VP8", webpHeader("VP8 ", 0, 0, 0, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00), "image/webp", 320, 240, nil},
		{"webp bad start code", webpHeader("VP8 ", 0, 0, 0, 0, 0, 0), "", 0, 0, media.ErrImageType},
		{"text", []byte("hello, I am not an image"), "", 0, 0, media.ErrImageType},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"></svg>`), "", 0, 0, media.ErrImageType},
		{"truncated png", encoded(t, "png", 3, 2)[:20], "", 0, 0, media.ErrImageType},
		{"too large", append(encoded(t, "png", 1, 1), make([]byte, media.MaxImageBytes)...), "", 0, 0, media.ErrImageTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			ct, w, h, err := media.Inspect(c.b)
			if ct != c.ct || w != c.w || h != c.h || !errors.Is(err, c.failed) {
				t.Fatalf("got %q %dx%d %v, want %q %dx%d %v", ct, w, h, err, c.ct, c.w, c.h, c.failed)
			}
		})
	}
}

func TestImagesAreScopedByTenantAndUser(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		put := func(tenant, user string) media.Image {
			t.Helper()
			img := media.Image{TenantID: tenant, UserID: user, Bytes: encoded(t, "png", 4, 3), Source: media.SourceUpload}
			if err := db.PutImage(ctx, &img); err != nil {
				t.Fatal(err)
			}
			tick()
			return img
		}
		a1, b1, a2, g1 := put("acme", "alice"), put("acme", "bob"), put("acme", "alice"), put("globex", "alice")
		if a1.ID[:4] != "img_" || a1.ContentType != "image/png" || a1.Width != 4 || a1.Height != 3 || a1.Size != int64(len(a1.Bytes)) {
			t.Fatalf("filled in: %+v", a1)
		}
		got, ok, err := db.Image(ctx, "acme", "alice", a1.ID)
		if !ok || err != nil || !bytes.Equal(got.Bytes, a1.Bytes) {
			t.Fatalf("own image: ok=%v err=%v", ok, err)
		}
		for _, c := range []struct{ tenant, user, id string }{
			{"acme", "alice", b1.ID},   // another user
			{"globex", "", a1.ID},      // another tenant, even unrestricted
			{"acme", "", g1.ID},        // ditto, the other way
			{"acme", "alice", "img_x"}, // no such image
		} {
			if _, ok, err := db.Image(ctx, c.tenant, c.user, c.id); ok || err != nil {
				t.Errorf("Image(%v): ok=%v err=%v", c, ok, err)
			}
			if gone, err := db.DeleteImage(ctx, c.tenant, c.user, c.id); gone || err != nil {
				t.Errorf("DeleteImage(%v): %v %v", c, gone, err)
			}
		}
		list, err := db.Images(ctx, "acme", "alice", 10)
		if err != nil || len(list) != 2 || list[0].ID != a2.ID || list[1].ID != a1.ID || list[0].Bytes != nil {
			t.Fatalf("alice's list (newest first, no bytes): %+v %v", list, err)
		}
		if all, _ := db.Images(ctx, "acme", "", 10); len(all) != 3 {
			t.Fatalf("tenant-wide list: %d images, want 3", len(all))
		}
		if gone, err := db.DeleteImage(ctx, "acme", "", b1.ID); !gone || err != nil {
			t.Fatalf("unrestricted delete in the tenant: %v %v", gone, err)
		}
		if _, ok, _ := db.Image(ctx, "acme", "", b1.ID); ok {
			t.Fatal("deleted image still readable")
		}
		bad := media.Image{TenantID: "acme", Bytes: []byte("plain text"), Source: media.SourceUpload}
		if err := db.PutImage(ctx, &bad); !errors.Is(err, media.ErrImageType) {
			t.Fatalf("text stored: %v", err)
		}
	})
}
