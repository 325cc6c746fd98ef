// Package webroot opens the files examples/fileserve may serve: only regular
// files under its root, whatever the request path says and wherever the
// tree's symbolic links point. The confinement is os.Root's, which resolves
// every component (symlinks included) without leaving the root directory.
package webroot

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"
)

// The refusals, each with the HTTP status it calls for.
var (
	ErrNotFound  = errors.New("webroot: not found") // 404
	ErrForbidden = errors.New("webroot: forbidden") // 403
)

// Root is an open document root. It is safe for concurrent use.
type Root struct{ r *os.Root }

// Open opens dir as the document root.
func Open(dir string) (*Root, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &Root{r: r}, nil
}

// Close releases the root's directory.
func (rt *Root) Close() error { return rt.r.Close() }

// Lookup opens the file a request path names: a decoded path starting with
// "/" (http1.Request.Path). A directory means its index.html. A path with a
// ".." segment is refused (ErrForbidden) rather than resolved, and so is
// anything that is not a regular file or that a symlink would take outside
// the root; what does not exist is ErrNotFound.
func (rt *Root) Lookup(urlPath string) (*os.File, fs.FileInfo, error) {
	if !strings.HasPrefix(urlPath, "/") || strings.IndexByte(urlPath, 0) >= 0 {
		return nil, nil, ErrForbidden
	}
	for _, seg := range strings.Split(urlPath, "/") {
		if seg == ".." {
			return nil, nil, ErrForbidden
		}
	}
	name := strings.TrimPrefix(path.Clean(urlPath), "/")
	if name == "" {
		name = "."
	}
	info, err := rt.r.Stat(name)
	if err != nil {
		return nil, nil, refusal(err)
	}
	if info.IsDir() {
		name = path.Join(name, "index.html")
		if info, err = rt.r.Stat(name); err != nil {
			return nil, nil, refusal(err)
		}
	}
	if !info.Mode().IsRegular() { // a FIFO would block the open, a device is no page
		return nil, nil, ErrForbidden
	}
	// O_NONBLOCK, which a regular file ignores, spares os.File the four
	// fcntl calls it makes to set the flag and clear it again on a file
	// the poller refuses, and keeps the open of a FIFO that took the file's
	// place since the Stat from waiting for a writer.
	f, err := rt.r.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, refusal(err)
	}
	return f, info, nil
}

// refusal maps an os.Root error to the status it calls for.
func refusal(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR): // a file used as a directory
		return ErrNotFound
	default: // permission, a symlink out of the root, ...
		return ErrForbidden
	}
}
