package http1

import (
	"errors"
	"strings"
	"testing"
)

var lim = Limits{MaxHead: 1024, MaxBody: 100}

func status(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// Every refusal has its status, and good heads parse to what they say.
func TestParse(t *testing.T) {
	long := "GET /" + strings.Repeat("a", 2000) + " HTTP/1.1\r\nHost: x\r\n\r\n"
	many := "GET / HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-A: b\r\n", 200) + "\r\n"
	for _, tc := range []struct {
		name, in string
		status   int // 0: parses
		path     string
		keep     bool
	}{
		{"get", "GET /a/b.txt HTTP/1.1\r\nHost: x\r\n\r\n", 0, "/a/b.txt", true},
		{"head", "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", 0, "/", true},
		{"close", "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 0, "/", false},
		{"1.0", "GET / HTTP/1.0\r\n\r\n", 0, "/", false},
		{"1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 0, "/", true},
		{"decoded", "GET /a%20b/%2e%2e/c?q=1 HTTP/1.1\r\nHost: x\r\n\r\n", 0, "/a b/../c", true},
		{"absolute form", "GET http://x/y%2Fz HTTP/1.1\r\nHost: x\r\n\r\n", 0, "/y/z", true},
		{"leading CRLF", "\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", 0, "/", true},
		{"other method", "DELETE / HTTP/1.1\r\nHost: x\r\n\r\n", 0, "/", true},
		{"no host", "GET / HTTP/1.1\r\n\r\n", 400, "", false},
		{"two hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "", false},
		{"garbage", "hello\r\n\r\n", 400, "", false},
		{"bad method", "G(T / HTTP/1.1\r\nHost: x\r\n\r\n", 400, "", false},
		{"bad version", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, "", false},
		{"not http", "GET / FTP/1.0\r\n\r\n", 400, "", false},
		{"bad escape", "GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400, "", false},
		{"NUL", "GET /a%00b HTTP/1.1\r\nHost: x\r\n\r\n", 400, "", false},
		{"relative", "GET a/b HTTP/1.1\r\nHost: x\r\n\r\n", 400, "", false},
		{"folded header", "GET / HTTP/1.1\r\nHost: x\r\n y\r\n\r\n", 400, "", false},
		{"space before colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400, "", false},
		{"body too large", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n", 413, "", false},
		{"chunked", "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", 413, "", false},
		{"two lengths", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400, "", false},
		{"zero then a length", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\n", 400, "", false},
		{"signed length", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\n", 400, "", false},
		{"same length twice", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n", 0, "/", true},
		{"control in target", "GET /a\x01b HTTP/1.1\r\nHost: x\r\n\r\n", 400, "", false},
		{"DEL in target", "GET /a\x7fb HTTP/1.1\r\nHost: x\r\n\r\n", 400, "", false},
		{"bare LF in a value", "GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n", 400, "", false},
		{"bare CR in a value", "GET / HTTP/1.1\r\nHost: x\r\nRange: bytes=0-1\r5\r\n\r\n", 400, "", false},
		{"tab in a value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\tb\r\n\r\n", 0, "/", true},
		{"long line", long, 431, "", false},
		{"many headers", many, 431, "", false},
	} {
		r, n, err := Parse([]byte(tc.in), lim)
		if got := status(err); got != tc.status || tc.status == 0 && err != nil {
			t.Errorf("%s: status %d (%v), want %d", tc.name, got, err, tc.status)
			continue
		}
		if tc.status != 0 {
			continue
		}
		if n != len(tc.in) || r.Path != tc.path || r.KeepAlive != tc.keep {
			t.Errorf("%s: took %d of %d, path %q keep-alive %v; want path %q keep-alive %v", tc.name, n, len(tc.in), r.Path, r.KeepAlive, tc.path, tc.keep)
		}
	}
}

// Pipelined heads parse one at a time; a partial head asks for more, and a
// request line longer than the limit with no end in sight is 414.
func TestParsePipelinedAndPartial(t *testing.T) {
	two := "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: x\r\nRange: bytes=0-1\r\n\r\n"
	r, n, err := Parse([]byte(two), lim)
	if err != nil || r.Path != "/1" {
		t.Fatalf("first: %v %+v", err, r)
	}
	r, m, err := Parse([]byte(two[n:]), lim)
	if err != nil || r.Path != "/2" || r.Method != "HEAD" || r.Range != "bytes=0-1" || n+m != len(two) {
		t.Fatalf("second: %v %+v", err, r)
	}
	for i := 0; i < len(two[:n]); i++ {
		if _, _, err := Parse([]byte(two[:i]), lim); err != ErrIncomplete {
			t.Fatalf("%d bytes of the head: %v, want ErrIncomplete", i, err)
		}
	}
	if _, _, err := Parse([]byte("GET /"+strings.Repeat("a", 2000)), lim); status(err) != 414 {
		t.Fatalf("endless request line: %v, want 414", err)
	}
}

// An absolute-form target names the host; the Host field is then ignored
// (RFC 9112 §3.2.2), as net/http does.
func TestParseAbsoluteFormHost(t *testing.T) {
	r, _, err := Parse([]byte("GET http://a.example/x HTTP/1.1\r\nHost: b.example\r\n\r\n"), lim)
	if err != nil || r.Host != "a.example" || r.Path != "/x" {
		t.Fatalf("%+v %v, want host a.example path /x", r, err)
	}
	r, _, err = Parse([]byte("GET /x HTTP/1.1\r\nHost: b.example\r\n\r\n"), lim)
	if err != nil || r.Host != "b.example" {
		t.Fatalf("%+v %v, want host b.example", r, err)
	}
}
