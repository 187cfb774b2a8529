package store

import (
	"context"
	"database/sql"
	"errors"
	"spass/shared/media"
	"time"
)

const imageMeta = `id, tenant_id, user_id, content_type, size, width, height, source, prompt, created_at`

// PutImage inspects img.Bytes, fills in the id, type, size, dimensions and time, and
// stores it. It returns media.ErrImageType, media.ErrImageTooLarge or
// media.ErrImageDimensions for a file it refuses.
func (db *DB) PutImage(ctx context.Context, img *media.Image) error {
	ct, w, h, err := media.Inspect(img.Bytes)
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
func (db *DB) Image(ctx context.Context, tenant, user, id string) (media.Image, bool, error) {
	q, args := `SELECT `+imageMeta+`, bytes FROM images WHERE tenant_id = ? AND id = ?`, []any{tenant, id}
	if user != "" {
		q, args = q+` AND user_id = ?`, append(args, user)
	}
	var img media.Image
	err := db.r.GetContext(ctx, &img, db.r.Rebind(q), args...)
	if errors.Is(err, sql.ErrNoRows) {
		return media.Image{}, false, nil
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
func (db *DB) Images(ctx context.Context, tenant, user string, limit int) ([]media.Image, error) {
	q, args := `SELECT `+imageMeta+` FROM images WHERE tenant_id = ?`, []any{tenant}
	if user != "" {
		q, args = q+` AND user_id = ?`, append(args, user)
	}
	out := []media.Image{}
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
