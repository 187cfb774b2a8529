// Package media holds the domain type of a stored image and the checks every
// image passes before it is kept: its type sniffed from the bytes and its
// dimensions read from the header. It has no I/O, so the store and the chat
// pipeline share it without depending on each other.
package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	_ "image/gif" // image.DecodeConfig reads the dimensions of the formats the store accepts
	_ "image/jpeg"
	_ "image/png"
	"net/http"
)

// MaxImageBytes bounds one stored image: enough for a large photo, and it keeps a
// vision request that inlines the image well under the gateway's body limit.
const MaxImageBytes = 10 << 20

// Bounds of an image's dimensions. The byte size says nothing about them: a 74-byte
// PNG may declare 100000x100000 pixels, which whoever decodes it (a vision backend,
// a thumbnailer) would have to allocate 40 GB for. 50 megapixels is more than any
// vision model reads; 16384 is the side limit of common decoders and GPUs.
const (
	MaxImagePixels = 50_000_000
	MaxImageSide   = 16384
)

// Errors of PutImage a client can correct.
var (
	ErrImageType       = errors.New("media: not a png, jpeg, gif or webp image")
	ErrImageTooLarge   = errors.New("media: image larger than 10 MiB")
	ErrImageDimensions = errors.New("media: image over 50 megapixels or 16384 pixels a side")
)

// Image is one stored image. Bytes is only filled by Image; listings leave it nil.
// Times are unix milliseconds.
type Image struct {
	ID          string `db:"id"`
	TenantID    string `db:"tenant_id"`
	UserID      string `db:"user_id"`
	ContentType string `db:"content_type"`
	Bytes       []byte `db:"bytes"`
	Size        int64  `db:"size"`
	Width       int    `db:"width"`
	Height      int    `db:"height"`
	Source      string `db:"source"` // upload or generated
	Prompt      string `db:"prompt"`
	CreatedAt   int64  `db:"created_at"`
}

// Image sources.
const (
	SourceUpload    = "upload"
	SourceGenerated = "generated"
)

// Inspect sniffs b's type and reads its dimensions. Only PNG, JPEG, GIF and
// WebP are accepted: the formats vision models read. A file whose header does not
// parse is refused, so a renamed text file cannot pass as an image, and so is one
// whose declared dimensions exceed MaxImagePixels or MaxImageSide.
func Inspect(b []byte) (contentType string, width, height int, err error) {
	ct, w, h, err := inspect(b)
	if err != nil {
		return "", 0, 0, err
	}
	if w <= 0 || h <= 0 || w > MaxImageSide || h > MaxImageSide || int64(w)*int64(h) > MaxImagePixels {
		return "", 0, 0, ErrImageDimensions
	}
	return ct, w, h, nil
}

func inspect(b []byte) (contentType string, width, height int, err error) {
	if len(b) > MaxImageBytes {
		return "", 0, 0, ErrImageTooLarge
	}
	switch ct := http.DetectContentType(b); ct {
	case "image/png", "image/jpeg", "image/gif":
		cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
		if err != nil {
			return "", 0, 0, ErrImageType
		}
		return ct, cfg.Width, cfg.Height, nil
	case "image/webp":
		w, h, ok := webpSize(b)
		if !ok {
			return "", 0, 0, ErrImageType
		}
		return ct, w, h, nil
	}
	return "", 0, 0, ErrImageType
}

// webpSize reads the canvas size from a WebP header (the standard library has no
// WebP decoder): VP8X, lossy VP8 and lossless VP8L chunks.
func webpSize(b []byte) (w, h int, ok bool) {
	if len(b) < 30 {
		return 0, 0, false
	}
	le24 := func(p []byte) int { return int(p[0]) | int(p[1])<<8 | int(p[2])<<16 }
	switch string(b[12:16]) {
	case "VP8X":
		return 1 + le24(b[24:27]), 1 + le24(b[27:30]), true
	case "VP8 ":
		if b[23] != 0x9d || b[24] != 0x01 || b[25] != 0x2a { // keyframe start code
			return 0, 0, false
		}
		return int(binary.LittleEndian.Uint16(b[26:28]) & 0x3fff), int(binary.LittleEndian.Uint16(b[28:30]) & 0x3fff), true
	case "VP8L":
		if b[20] != 0x2f {
			return 0, 0, false
		}
		v := binary.LittleEndian.Uint32(b[21:25])
		return 1 + int(v&0x3fff), 1 + int(v>>14&0x3fff), true
	}
	return 0, 0, false
}
