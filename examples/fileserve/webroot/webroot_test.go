package webroot

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// tree builds a document root beside a secret outside it.
func tree(t *testing.T) (root string) {
	t.Helper()
	base := t.TempDir()
	root = filepath.Join(base, "www")
	write := func(p, s string) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(base, "secret.txt"), "secret")
	write(filepath.Join(root, "index.html"), "home")
	write(filepath.Join(root, "a", "b.txt"), "b")
	write(filepath.Join(root, "docs", "index.html"), "docs")
	if err := os.MkdirAll(filepath.Join(root, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink(filepath.Join(base, "secret.txt"), filepath.Join(root, "out.txt")))
	must(os.Symlink("../secret.txt", filepath.Join(root, "rel.txt")))
	must(os.Symlink(base, filepath.Join(root, "up")))
	must(os.Symlink("a/b.txt", filepath.Join(root, "in.txt")))
	must(syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644))
	return root
}

// Files under the root are served; nothing outside it is, by any path.
func TestLookup(t *testing.T) {
	rt, err := Open(tree(t))
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	for _, tc := range []struct {
		path string
		want string // body, or the error
		err  error
	}{
		{"/", "home", nil},
		{"/a/b.txt", "b", nil},
		{"/a//b.txt", "b", nil},
		{"/docs/", "docs", nil},
		{"/docs", "docs", nil},
		{"/in.txt", "b", nil}, // a symlink that stays inside
		{"/empty/", "", ErrNotFound},
		{"/nope", "", ErrNotFound},
		{"/a/b.txt/x", "", ErrNotFound},
		{"/../secret.txt", "", ErrForbidden},
		{"/a/../../secret.txt", "", ErrForbidden},
		{"/a/../index.html", "", ErrForbidden}, // ".." is refused, not resolved
		{"/out.txt", "", ErrForbidden},         // absolute symlink out
		{"/rel.txt", "", ErrForbidden},         // relative symlink out
		{"/up/secret.txt", "", ErrForbidden},   // symlinked directory out
		{"/etc/passwd", "", ErrNotFound},       // absolute paths are the root's
		{"/fifo", "", ErrForbidden},
		{"relative", "", ErrForbidden},
		{"/a\x00b", "", ErrForbidden},
	} {
		f, info, err := rt.Lookup(tc.path)
		if err != tc.err {
			t.Errorf("%q: %v, want %v", tc.path, err, tc.err)
			if f != nil {
				f.Close()
			}
			continue
		}
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(f)
		f.Close()
		if string(b) != tc.want || info.Size() != int64(len(tc.want)) {
			t.Errorf("%q: %q (size %d), want %q", tc.path, b, info.Size(), tc.want)
		}
	}
}
