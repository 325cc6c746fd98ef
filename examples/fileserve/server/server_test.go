package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/overlapio/overlap/internal/leaktest"
	"github.com/overlapio/overlap/internal/serve"
)

func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }

// serveDir starts the server on a fresh root holding index.html, a file
// of several chunks and a subdirectory without an index.
func serveDir(t *testing.T, cfg Config) (*Server, []byte) {
	t.Helper()
	dir := t.TempDir()
	big := make([]byte, 5*chunkSize+123)
	_, _ = rand.Read(big)
	for name, body := range map[string][]byte{"index.html": []byte("<h1>hi</h1>\n"), "big.bin": big, "sub/a.txt": []byte("a\n")} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg.Root = dir
	srv := serve.ForTest(t, func(ctx context.Context) (*Server, error) { return Start(ctx, "127.0.0.1:0", cfg) })
	return srv, big
}

// net/http as the client: statuses, bodies, ranges, types, 304.
func TestFileServeWithHTTPClient(t *testing.T) {
	srv, big := serveDir(t, Config{ReadTimeout: 10 * time.Second})
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 20 * time.Second}
	base := "http://" + srv.Addr()
	get := func(method, path string, hdr ...string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, b
	}
	if r, b := get("GET", "/"); r.StatusCode != 200 || string(b) != "<h1>hi</h1>\n" || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("/: %d %q %q", r.StatusCode, b, r.Header.Get("Content-Type"))
	}
	if r, b := get("GET", "/big.bin"); r.StatusCode != 200 || !bytes.Equal(b, big) {
		t.Fatalf("big: %d, %d bytes", r.StatusCode, len(b))
	}
	if r, b := get("GET", "/big.bin", "Range", "bytes=100000-200000"); r.StatusCode != 206 || !bytes.Equal(b, big[100000:200001]) {
		t.Fatalf("range: %d, %d bytes", r.StatusCode, len(b))
	}
	if r, _ := get("GET", "/big.bin", "Range", fmt.Sprintf("bytes=%d-", len(big))); r.StatusCode != 416 {
		t.Fatalf("past the end: %d", r.StatusCode)
	}
	r, b := get("HEAD", "/big.bin")
	if r.StatusCode != 200 || len(b) != 0 || r.ContentLength != int64(len(big)) {
		t.Fatalf("HEAD: %d, %d bytes, length %d", r.StatusCode, len(b), r.ContentLength)
	}
	if r2, _ := get("GET", "/big.bin", "If-Modified-Since", r.Header.Get("Last-Modified")); r2.StatusCode != 304 {
		t.Fatalf("If-Modified-Since: %d", r2.StatusCode)
	}
	for path, want := range map[string]int{"/nope": 404, "/sub/": 404, "/sub/a.txt": 200} {
		if r, _ := get("GET", path); r.StatusCode != want {
			t.Fatalf("%s: %d, want %d", path, r.StatusCode, want)
		}
	}
	if r, _ := get("DELETE", "/"); r.StatusCode != 405 || r.Header.Get("Allow") != "GET, HEAD" {
		t.Fatalf("DELETE: %d", r.StatusCode)
	}
}

// Raw requests: pipelining on one connection, "..", malformed and
// oversized requests.
func TestFileServeRawRequests(t *testing.T) {
	srv, _ := serveDir(t, Config{ReadTimeout: 10 * time.Second})
	exchange := func(req string) string {
		t.Helper()
		c, err := net.Dial("tcp", srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(20 * time.Second))
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(c) // the server closes after the last response
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	out := exchange("GET /sub/a.txt HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\nHEAD /sub/a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if strings.Count(out, "HTTP/1.1 200 OK") != 3 || !strings.Contains(out, "\r\n\r\na\n") || !strings.Contains(out, "<h1>hi</h1>") {
		t.Fatalf("pipelined: %q", out)
	}
	// A refused request after a good one: the good one is answered, then
	// the refusal, then the connection closes.
	out = exchange("GET /sub/a.txt HTTP/1.1\r\nHost: x\r\n\r\nBAD\r\n\r\n")
	if i, j := strings.Index(out, "HTTP/1.1 200 OK"), strings.Index(out, "HTTP/1.1 400"); i != 0 || j < 0 || !strings.HasSuffix(out, "400 Bad Request\n") {
		t.Fatalf("good then bad: %q", out)
	}
	for req, want := range map[string]string{
		"GET /../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n":     "HTTP/1.1 403",
		"GET /%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n": "HTTP/1.1 403",
		"GET / HTTP/1.1\r\n\r\n": "HTTP/1.1 400",
		"nonsense\r\n\r\n":       "HTTP/1.1 400",
		"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 999999\r\n\r\n":               "HTTP/1.1 413",
		"GET / HTTP/1.1\r\nHost: x\r\nX: " + strings.Repeat("y", 9000) + "\r\n\r\n": "HTTP/1.1 431",
	} {
		if out := exchange(req); !strings.HasPrefix(out, want) || !strings.Contains(out, "Connection: close") {
			t.Errorf("%.40q: %.60q, want %s and a close", req, out, want)
		}
	}
}

// Past MaxConns a connection gets 503; a client that sends half a request
// and waits is closed after the read timeout.
func TestFileServeTimeoutAndLimit(t *testing.T) {
	srv, _ := serveDir(t, Config{ReadTimeout: 300 * time.Millisecond, MaxConns: 1})
	c, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	// A whole exchange first: then c is surely the one connection counted.
	cr := bufio.NewReader(c)
	if _, err := io.WriteString(c, "GET /sub/a.txt HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if line, err := cr.ReadString('\n'); err != nil || !strings.HasPrefix(line, "HTTP/1.1 200") {
		t.Fatalf("first connection: %q %v", line, err)
	}
	d, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	_ = d.SetDeadline(time.Now().Add(20 * time.Second))
	line, err := bufio.NewReader(d).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 503") {
		t.Fatalf("second connection: %q %v", line, err)
	}
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, cr); err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("the slow client was never closed")
		}
	}
}

// A file far larger than any buffer streams in bounded memory: the server
// reads a chunk only as an earlier send completes. 512 MiB (a sparse
// file, so no disk is used) is sent whole while the heap in use, sampled
// as it streams, stays within a few MiB of where it started.
func TestFileServeStreamsInBoundedMemory(t *testing.T) {
	const size = 512 << 20
	srv, _ := serveDir(t, Config{ReadTimeout: 20 * time.Second})
	f, err := os.Create(filepath.Join(srv.dir, "huge.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	f.Close()

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapInuse, ms.HeapInuse
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(5 * time.Millisecond) // measurement, not synchronisation
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				peak = max(peak, m.HeapInuse)
			}
		}
	}()
	c, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(60 * time.Second))
	if _, err := io.WriteString(c, "GET /huge.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, c)
	close(done)
	<-sampled
	if err != nil || n < size {
		t.Fatalf("read %d bytes (%v), want the %d-byte file and its head", n, err, size)
	}
	if grew := int64(peak) - int64(base); grew > 16<<20 {
		t.Fatalf("heap in use grew by %d MiB while streaming %d MiB", grew>>20, size>>20)
	}
}
