package openai

import (
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"spass/shared/apierr"
	"spass/shared/app"
	"spass/shared/auth"
	"spass/shared/batch"
	"spass/shared/filestore"
	"spass/shared/identity"
	"spass/shared/store"
	"spass/shared/web"
)

// Files and batches follow the image store's permission model (see images.go):
// they belong to the end user (SPASS-User-Id) who created them; roles user and
// read-only see only their own, admin and tenant_admin every one of the
// tenant; read-only creates, cancels and deletes nothing. Another tenant's or
// user's id reads as not found.
func owner(p identity.Principal) string { return imageOwner(p) }

// fileObject is OpenAI's File object.
type fileObject struct {
	ID            string  `json:"id"`
	Object        string  `json:"object"`
	Bytes         int64   `json:"bytes"`
	CreatedAt     int64   `json:"created_at"`
	Filename      string  `json:"filename"`
	Purpose       string  `json:"purpose"`
	Status        string  `json:"status"`
	ExpiresAt     *int64  `json:"expires_at"`
	StatusDetails *string `json:"status_details"`
}

func toFileObject(f batch.File) fileObject {
	return fileObject{ID: f.ID, Object: "file", Bytes: f.Bytes, CreatedAt: f.CreatedAt / 1000, Filename: f.Filename,
		Purpose: f.Purpose, Status: "processed"}
}

// uploadFile serves "POST /v1/files": the multipart fields file and purpose.
// The file streams to disk under a temporary name, at most files.max_bytes; a
// batch input file is then checked line by line, and only a file that passes
// is kept.
func uploadFile(a *app.App) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := auth.From(r.Context())
		if err := denyReadOnly(p, "upload files"); err != nil {
			return err
		}
		ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if ct != "multipart/form-data" || params["boundary"] == "" {
			return apierr.P(apierr.InvalidRequest, "file", "Send multipart/form-data with the fields file and purpose.")
		}
		limit := a.Config.Files.MaxBytes
		r.Body = http.MaxBytesReader(w, r.Body, limit+1<<20) // room for the other fields and the part headers
		f := batch.File{ID: batch.NewFileID(), TenantID: p.Tenant, UserID: p.User}
		fw, err := readUpload(r, a.Files, &f, limit)
		if fw != nil {
			defer fw.Abort()
		}
		if err != nil {
			return err
		}
		if f.Purpose == batch.PurposeBatch {
			if err := checkBatchFile(a, fw.Name(), &f); err != nil {
				return err
			}
		}
		f.CreatedAt = time.Now().UnixMilli()
		if err := fw.Commit(); err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		if err := a.Store.PutFile(r.Context(), f); err != nil {
			a.Files.Remove(p.Tenant, f.ID)
			return apierr.E(apierr.Internal, "", err)
		}
		return web.JSON(w, http.StatusOK, toFileObject(f))
	}
}

// readUpload reads every part of the form: purpose into f, the file to a new
// file of the store (returned, to be committed or aborted). Other fields
// (OpenAI's expires_after) are read and ignored; user_id is refused, as on
// every route.
func readUpload(r *http.Request, files *filestore.Dir, f *batch.File, limit int64) (*filestore.Writer, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, apierr.P(apierr.InvalidRequest, "file", "The multipart body could not be read.")
	}
	var fw *filestore.Writer
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fw, fileReadError(err, limit)
		}
		switch part.FormName() {
		case "user_id":
			return fw, apierr.P(apierr.UserIDInBody, "user_id", "")
		case "purpose":
			b, err := io.ReadAll(io.LimitReader(part, 65))
			if err != nil {
				return fw, fileReadError(err, limit)
			}
			f.Purpose = strings.TrimSpace(string(b))
		case "file":
			if fw != nil {
				return fw, apierr.P(apierr.InvalidRequest, "file", "Send one field named file.")
			}
			if fw, err = files.Create(f.TenantID, f.ID); err != nil {
				return nil, apierr.E(apierr.Internal, "", err)
			}
			n, err := io.Copy(fw, io.LimitReader(part, limit+1))
			if err != nil {
				return fw, fileReadError(err, limit)
			}
			if n > limit {
				return fw, fileTooLarge(limit)
			}
			f.Bytes, f.Filename = n, uploadName(part.FileName())
		default:
			if _, err := io.Copy(io.Discard, io.LimitReader(part, 64<<10)); err != nil {
				return fw, fileReadError(err, limit)
			}
		}
	}
	switch {
	case fw == nil:
		return nil, apierr.P(apierr.MissingParameter, "file", "The multipart body has no field named file.")
	case f.Purpose == "":
		return fw, apierr.P(apierr.MissingParameter, "purpose", "Name the file's purpose, e.g. batch.")
	case !batch.UploadPurpose(f.Purpose):
		return fw, apierr.P(apierr.InvalidRequest, "purpose", "purpose must be one of "+strings.Join(batch.UploadPurposes, ", ")+".")
	}
	return fw, nil
}

// uploadName is the client's file name without its directories, bounded.
func uploadName(name string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	if name == "." || name == "/" || name == "" {
		return "upload"
	}
	return apierr.Clip(name, 256)
}

func fileTooLarge(limit int64) error {
	return apierr.E(apierr.FileTooLarge, "Files may be at most "+strconv.FormatInt(limit>>20, 10)+" MiB.", nil)
}

// fileReadError maps an upload read failure: past the byte limit is 413, past
// the server's body deadline 408, the rest 400.
func fileReadError(err error, limit int64) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return fileTooLarge(limit)
	}
	if e := web.BodyError(err); apierr.From(e).Code == apierr.RequestTimeout {
		return e
	}
	return apierr.P(apierr.InvalidRequest, "file", "The multipart body could not be read.")
}

// listFiles serves "GET /v1/files?purpose=&limit=&after=&order=".
func listFiles(db *store.DB) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := auth.From(r.Context())
		q, err := listQuery(r, 10_000, 10_000)
		if err != nil {
			return err
		}
		q.User, q.Purpose = owner(p), r.URL.Query().Get("purpose")
		files, err := db.Files(r.Context(), p.Tenant, q)
		if err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		out := make([]fileObject, len(files))
		for i, f := range files {
			out[i] = toFileObject(f)
		}
		return writePage(w, out, q.Limit-1, func(f fileObject) string { return f.ID })
	}
}

// getFile serves "GET /v1/files/{id}".
func getFile(db *store.DB) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		f, err := findFile(r, db)
		if err != nil {
			return err
		}
		return web.JSON(w, http.StatusOK, toFileObject(f))
	}
}

// fileContent serves "GET /v1/files/{id}/content": the bytes as uploaded, or
// a batch's output or error lines.
func fileContent(a *app.App) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		f, err := findFile(r, a.Store)
		if err != nil {
			return err
		}
		rd, err := a.Files.Open(f.TenantID, f.ID)
		if errors.Is(err, fs.ErrNotExist) {
			return fileNotFound(f.ID)
		}
		if err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		defer rd.Close()
		h := w.Header()
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Length", strconv.FormatInt(f.Bytes, 10))
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.Filename}))
		h.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		if _, err := io.Copy(w, rd); err != nil {
			slog.Warn("file content cut", "file", f.ID, "err", err)
		}
		return nil
	}
}

// deleteFile serves "DELETE /v1/files/{id}". The input file of a batch that has
// not finished is kept: its lines are still read.
func deleteFile(a *app.App) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := auth.From(r.Context())
		if err := denyReadOnly(p, "delete files"); err != nil {
			return err
		}
		f, err := findFile(r, a.Store)
		if err != nil {
			return err
		}
		if used, err := a.Store.FileInUse(r.Context(), p.Tenant, f.ID); err != nil {
			return apierr.E(apierr.Internal, "", err)
		} else if used {
			return apierr.P(apierr.FileInUse, "id", "The file "+f.ID+" is the input of a batch that has not finished.")
		}
		if _, err := a.Store.DeleteFile(r.Context(), p.Tenant, owner(p), f.ID); err != nil {
			return apierr.E(apierr.Internal, "", err)
		}
		if err := a.Files.Remove(p.Tenant, f.ID); err != nil {
			slog.Warn("deleted file's bytes not removed", "file", f.ID, "err", err)
		}
		return web.JSON(w, http.StatusOK, map[string]any{"id": f.ID, "object": "file", "deleted": true})
	}
}

// findFile returns the caller's file named by the path.
func findFile(r *http.Request, db *store.DB) (batch.File, error) {
	p := auth.From(r.Context())
	id := r.PathValue("id")
	f, ok, err := db.File(r.Context(), p.Tenant, owner(p), id)
	if err != nil {
		return f, apierr.E(apierr.Internal, "", err)
	}
	if !ok {
		return f, fileNotFound(id)
	}
	return f, nil
}

func fileNotFound(id string) error {
	return apierr.P(apierr.FileNotFound, "id", "No file "+apierr.Quote(id)+".")
}
