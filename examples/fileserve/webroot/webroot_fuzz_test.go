package webroot

import (
	"errors"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// fuzzTree builds a document root for FuzzLookup under base/www: regular
// files whose content is their own path under the root, nested and empty
// directories, and symlinks of every kind: inside the root, out of it
// (absolute, relative, to a directory, to the filesystem root), out and
// back in, a chain that ends outside, and a loop. Outside the root lie
// base/secret.txt and base/outdir/secret.txt. It returns the root and its
// real, symlink-free path.
func fuzzTree(t testing.TB) (root, real string) {
	t.Helper()
	base := t.TempDir()
	root = filepath.Join(base, "www")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	write := func(dir, rel string) {
		p := filepath.Join(dir, rel)
		must(os.MkdirAll(filepath.Dir(p), 0o755))
		must(os.WriteFile(p, []byte(rel), 0o644))
	}
	write(base, "secret.txt")
	write(base, "outdir/secret.txt")
	for _, rel := range []string{"index.html", "a/b.txt", "a/c/d.txt", "docs/index.html", "x y/%2e.txt", "..txt", "...", "a/.hidden"} {
		write(root, rel)
	}
	must(os.MkdirAll(filepath.Join(root, "empty"), 0o755))
	for link, target := range map[string]string{
		"in.txt":     "a/b.txt",                          // inside
		"a/up.txt":   "../index.html",                    // inside, via ..
		"indir":      "a/c",                              // a directory inside
		"out.txt":    filepath.Join(base, "secret.txt"),  // absolute, out
		"rel.txt":    "../secret.txt",                    // relative, out
		"up":         "..",                               // a directory out
		"outdir":     filepath.Join(base, "outdir"),      // an absolute directory out
		"fsroot":     "/",                                // the filesystem's root
		"back.txt":   "../www/a/b.txt",                   // out and back in
		"chain.txt":  "in2.txt",                          // a chain...
		"in2.txt":    "rel.txt",                          // ...that ends outside
		"loop":       "loop2",                            // a loop
		"loop2":      "loop",                             //
		"a/deep.txt": "../../secret.txt",                 // out from a subdirectory
		"proc":       "/proc/self/root",                  // the filesystem's root again
		"dangling":   filepath.Join(base, "nonexistent"), // nowhere
	} {
		must(os.Symlink(target, filepath.Join(root, link)))
	}
	must(syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644))
	real, err := filepath.EvalSymlinks(root)
	must(err)
	return root, real
}

// FuzzLookup asks Lookup for any path. Whatever the path:
//
//   - Lookup never panics and fails only with ErrNotFound or ErrForbidden;
//   - a file it opens is a regular file whose real path — what the kernel
//     says the descriptor is (/proc/self/fd), symlinks and all resolved —
//     lies under the root's real path (filepath.Rel gives no ".."), and it is
//     the file the returned FileInfo describes;
//   - that file is the one the path names: the root joined with the cleaned
//     path (and index.html for a directory), symlinks evaluated, is the same
//     file, and its content (its own path under the root) agrees;
//   - a path with a ".." segment or a NUL is refused, never resolved.
func FuzzLookup(f *testing.F) {
	for _, p := range []string{
		"/", "/a/b.txt", "/a//b.txt", "/docs", "/docs/", "/in.txt", "/a/up.txt", "/indir/d.txt",
		"/out.txt", "/rel.txt", "/up/secret.txt", "/outdir/secret.txt", "/fsroot/etc/passwd",
		"/back.txt", "/chain.txt", "/loop", "/a/deep.txt", "/proc/etc/hostname", "/dangling",
		"/../secret.txt", "/a/../../secret.txt", "/./a/./b.txt", "/x y/%2e.txt", "/..txt", "/...",
		"/fifo", "/empty/", "relative", "/a\x00b", "/a/b.txt/", "//a/b.txt", "/a/.hidden",
	} {
		f.Add(p)
	}
	root, real := fuzzTree(f)
	rt, err := Open(root)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { rt.Close() })

	f.Fuzz(func(t *testing.T, p string) {
		file, info, err := rt.Lookup(p)
		if err != nil {
			if file != nil || info != nil {
				t.Fatalf("%q: %v with a file", p, err)
			}
			if err != ErrNotFound && err != ErrForbidden {
				t.Fatalf("%q: error %v", p, err)
			}
			return
		}
		defer file.Close()

		if strings.IndexByte(p, 0) >= 0 || !strings.HasPrefix(p, "/") || hasDotDot(p) {
			t.Fatalf("%q: opened a file for a path that must be refused", p)
		}
		// What was opened, by the kernel's account.
		opened, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(file.Fd())))
		if err != nil {
			t.Fatal(err)
		}
		rel, err := filepath.Rel(real, opened)
		if err != nil || rel == ".." || strings.HasPrefix(rel, "../") || filepath.IsAbs(rel) {
			t.Fatalf("%q: opened %s, outside the root %s", p, opened, real)
		}
		st, err := file.Stat()
		if err != nil || !st.Mode().IsRegular() || !os.SameFile(st, info) {
			t.Fatalf("%q: opened %s (%v), a %v, not the file its FileInfo describes", p, opened, err, st.Mode())
		}
		content, err := io.ReadAll(file)
		if err != nil || string(content) != filepath.ToSlash(rel) {
			t.Fatalf("%q: opened %s holding %q (%v)", p, rel, content, err)
		}

		// The file the path names, resolved independently.
		named := filepath.Join(root, filepath.FromSlash(path.Clean(p)))
		if fi, err := os.Stat(named); err == nil && fi.IsDir() {
			named = filepath.Join(named, "index.html")
		}
		want, err := os.Stat(named)
		if err != nil || !os.SameFile(want, st) {
			t.Fatalf("%q: opened %s, but the path names %s (%v)", p, opened, named, err)
		}
	})
}

// hasDotDot reports whether p has a ".." segment.
func hasDotDot(p string) bool {
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return true
		}
	}
	return false
}

// The symlinks fuzzTree makes out of the root are all refused, and the
// ones that stay inside are followed: FuzzLookup's seeds, with the result
// each must have.
func TestLookupFuzzTree(t *testing.T) {
	root, _ := fuzzTree(t)
	rt, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	for _, tc := range []struct {
		path string
		want string // the content (the file's path under the root), or ""
		err  error
	}{
		{"/in.txt", "a/b.txt", nil},
		{"/a/up.txt", "index.html", nil},
		{"/indir/d.txt", "a/c/d.txt", nil},
		{"/x y/%2e.txt", "x y/%2e.txt", nil},
		{"/..txt", "..txt", nil},
		{"/...", "...", nil},
		{"/./a/./b.txt", "a/b.txt", nil},
		{"//a/b.txt", "a/b.txt", nil},
		{"/out.txt", "", ErrForbidden},
		{"/rel.txt", "", ErrForbidden},
		{"/up/secret.txt", "", ErrForbidden},
		{"/outdir/secret.txt", "", ErrForbidden},
		{"/fsroot/etc/passwd", "", ErrForbidden},
		{"/proc/etc/hostname", "", ErrForbidden},
		{"/back.txt", "", ErrForbidden}, // out and back in is still out
		{"/chain.txt", "", ErrForbidden},
		{"/a/deep.txt", "", ErrForbidden},
		{"/loop", "", ErrForbidden},
		{"/dangling", "", ErrForbidden},
	} {
		f, _, err := rt.Lookup(tc.path)
		if !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
			t.Errorf("%q: %v, want %v", tc.path, err, tc.err)
		}
		if f == nil {
			continue
		}
		b, _ := io.ReadAll(f)
		f.Close()
		if string(b) != tc.want {
			t.Errorf("%q: opened %q, want %q", tc.path, b, tc.want)
		}
	}
}
