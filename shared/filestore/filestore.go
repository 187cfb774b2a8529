// Package filestore keeps the bytes of /v1/files on disk, one directory per
// tenant under a root in the data dir (files/<tenant>/<id>). The gateway and the
// workers binary share the data dir, so a file uploaded to one is read by the
// other. A file is written under a temporary name, synced and renamed into
// place: a reader never sees half a file, and a crash leaves only a temporary
// file behind, never a short one under the file's id.
package filestore

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"spass/shared/batch"
)

// Dir is the root of the stored files.
type Dir struct {
	root string
}

// New returns the store rooted at root (created on the first write).
func New(root string) *Dir { return &Dir{root: root} }

// ErrBadID is returned for an id that is not one the gateway generates.
var ErrBadID = errors.New("filestore: invalid file id")

// path is where the tenant's file id lives. The tenant's directory name is its
// id escaped for a path, so no tenant id reaches outside the root.
func (d *Dir) path(tenant, id string) (string, error) {
	if !batch.ValidID(id) {
		return "", ErrBadID
	}
	dir := url.PathEscape(tenant)
	if dir == "" || strings.Trim(dir, ".") == "" {
		dir = "%2E" + dir // "", "." and ".." are not directory names
	}
	return filepath.Join(d.root, dir, id), nil
}

// Writer is a file being written; Commit makes it the file, Abort drops it.
type Writer struct {
	f     *os.File
	final string
	done  bool
}

// Create starts writing the tenant's file id; an existing file is replaced on
// Commit.
func (d *Dir) Create(tenant, id string) (*Writer, error) {
	p, err := d.path(tenant, id)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(p), "."+id+".tmp-*")
	if err != nil {
		return nil, err
	}
	return &Writer{f: f, final: p}, nil
}

// Write appends to the file.
func (w *Writer) Write(b []byte) (int, error) { return w.f.Write(b) }

// Name is the temporary file's path, to read back what was written before Commit.
func (w *Writer) Name() string { return w.f.Name() }

// Commit syncs the file and renames it into place.
func (w *Writer) Commit() error {
	if w.done {
		return errors.New("filestore: writer already finished")
	}
	w.done = true
	if err := w.f.Sync(); err != nil {
		w.f.Close()
		os.Remove(w.f.Name())
		return err
	}
	if err := w.f.Close(); err != nil {
		os.Remove(w.f.Name())
		return err
	}
	if err := os.Rename(w.f.Name(), w.final); err != nil {
		os.Remove(w.f.Name())
		return fmt.Errorf("filestore: %w", err)
	}
	return nil
}

// Abort drops the file; after Commit it does nothing, so it can be deferred.
func (w *Writer) Abort() {
	if w.done {
		return
	}
	w.done = true
	w.f.Close()
	os.Remove(w.f.Name())
}

// Open opens the tenant's file id for reading.
func (d *Dir) Open(tenant, id string) (*os.File, error) {
	p, err := d.path(tenant, id)
	if err != nil {
		return nil, err
	}
	return os.Open(p)
}

// Remove deletes the tenant's file id; a file already gone is not an error.
func (d *Dir) Remove(tenant, id string) error {
	p, err := d.path(tenant, id)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
