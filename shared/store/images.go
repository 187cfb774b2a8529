package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"image"
	_ "image/gif" // image.DecodeConfig reads the dimensions of the formats the store accepts
	_ "image/jpeg"
	_ "image/png"
	"net/http"
	"time"
)

// MaxImageBytes bounds one stored image: enough for a large photo, and it keeps a
// vision request that inlines the image well under the gateway's body limit.
const MaxImageBytes = 10 << 20

// Errors of PutImage a client can correct.
var (
	ErrImageType     = errors.New("store: not a png, jpeg, gif or webp image")
	ErrImageTooLarge = errors.New("store: image larger than 10 MiB")
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

const imageMeta = `id, tenant_id, user_id, content_type, size, width, height, source, prompt, created_at`

// InspectImage sniffs b's type and reads its dimensions. Only PNG, JPEG, GIF and
// WebP are accepted: the formats vision models read. A file whose header does not
// parse is refused, so a renamed text file cannot pass as an image.
func InspectImage(b []byte) (contentType string, width, height int, err error) {
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

// PutImage inspects img.Bytes, fills in the id, type, size, dimensions and time, and
// stores it. It returns ErrImageType or ErrImageTooLarge for a file it refuses.
func (db *DB) PutImage(ctx context.Context, img *Image) error {
	ct, w, h, err := InspectImage(img.Bytes)
	if err != nil {
		return err
	}
	img.ID, img.ContentType, img.Width, img.Height = newObjectID("img_"), ct, w, h
	img.Size, img.CreatedAt = int64(len(img.Bytes)), time.Now().UnixMilli()
	_, err = db.w.NamedExecContext(ctx, `INSERT INTO images (id, tenant_id, user_id, content_type, bytes, size, width, height, source, prompt, created_at)
		VALUES (:id, :tenant_id, :user_id, :content_type, :bytes, :size, :width, :height, :source, :prompt, :created_at)`, img)
	return err
}

// Image returns the tenant's image id with its bytes. A non-empty user restricts
// the lookup to that user's images, so another user's id reads as missing.
func (db *DB) Image(ctx context.Context, tenant, user, id string) (Image, bool, error) {
	q, args := `SELECT `+imageMeta+`, bytes FROM images WHERE tenant_id = ? AND id = ?`, []any{tenant, id}
	if user != "" {
		q, args = q+` AND user_id = ?`, append(args, user)
	}
	var img Image
	err := db.r.GetContext(ctx, &img, db.r.Rebind(q), args...)
	if errors.Is(err, sql.ErrNoRows) {
		return Image{}, false, nil
	}
	return img, err == nil, err
}

// ImageBytes returns the type and bytes of the tenant's image id, for chat requests
// that reference a stored image (chat.Images). Ids are unguessable, so holding one
// is what lets a request use the image; it is not restricted to its owner.
func (db *DB) ImageBytes(ctx context.Context, tenant, user, id string) (string, []byte, bool, error) {
	img, ok, err := db.Image(ctx, tenant, user, id)
	return img.ContentType, img.Bytes, ok, err
}

// Images lists the tenant's images without their bytes, newest first; a non-empty
// user lists only that user's.
func (db *DB) Images(ctx context.Context, tenant, user string, limit int) ([]Image, error) {
	q, args := `SELECT `+imageMeta+` FROM images WHERE tenant_id = ?`, []any{tenant}
	if user != "" {
		q, args = q+` AND user_id = ?`, append(args, user)
	}
	out := []Image{}
	err := db.r.SelectContext(ctx, &out, db.r.Rebind(q+` ORDER BY created_at DESC, id DESC LIMIT ?`), append(args, limit)...)
	return out, err
}

// DeleteImage removes the tenant's image id (only user's when user is not empty)
// and reports whether it existed.
func (db *DB) DeleteImage(ctx context.Context, tenant, user, id string) (bool, error) {
	q, args := `DELETE FROM images WHERE tenant_id = ? AND id = ?`, []any{tenant, id}
	if user != "" {
		q, args = q+` AND user_id = ?`, append(args, user)
	}
	res, err := db.w.ExecContext(ctx, db.w.Rebind(q), args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
