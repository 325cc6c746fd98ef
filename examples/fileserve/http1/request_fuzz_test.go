package http1

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// FuzzParse feeds Parse arbitrary bytes. For every input:
//
//   - it never panics, and fails only with ErrIncomplete or an *Error whose
//     status is one of those the package documents;
//
// and for a head it accepts, taking n bytes:
//
//   - 0 < n <= len(in) and the head ends with the blank line at in[n-4:n];
//     Parse of in[:n] alone gives the same request (nothing past the head
//     was read), and of in[:n-1] ErrIncomplete (nothing short of it is a
//     head);
//   - the path is absolute, free of NUL, and the percent-decoding of the
//     target's path; the method is a token; Minor is 0 or 1; KeepAlive
//     follows the version and Connection; BodyLen lies within MaxBody;
//   - the head, formatted again from the parsed fields, parses back to the
//     same fields (round trip);
//   - net/http.ReadRequest, the oracle, accepts it too, and agrees on the
//     method, path, host, version, keep-alive, body length and the Range and
//     If-Modified-Since values.
func FuzzParse(f *testing.F) {
	f.Add([]byte("GET /a%20b HTTP/1.1\r\nHost: x\r\n\r\n"))
	f.Add([]byte("HEAD http://x/ HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET"))
	f.Add([]byte("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"))
	f.Add([]byte("\r\nGET /f?q HTTP/1.1\r\nhost:  x \r\nRange: bytes=1-2\r\nIf-Modified-Since: Wed, 25 Nov 2026 10:00:00 GMT\r\nConnection: foo, close\r\n\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r, n, err := Parse(in, lim)
		if err != nil {
			if !errors.Is(err, ErrIncomplete) && !knownStatus[status(err)] {
				t.Fatalf("%q: error %v", in, err)
			}
			return
		}
		if n <= 0 || n > len(in) || !bytes.HasSuffix(in[:n], []byte("\r\n\r\n")) {
			t.Fatalf("%q: took %d bytes", in, n)
		}
		if r2, n2, err := Parse(in[:n], lim); err != nil || n2 != n || *r2 != *r {
			t.Fatalf("%q: the head alone parses to %+v %d %v, with what follows to %+v %d", in, r2, n2, err, r, n)
		}
		if _, _, err := Parse(in[:n-1], lim); err != ErrIncomplete {
			t.Fatalf("%q: one byte short of the head: %v, want ErrIncomplete", in, err)
		}
		checkRequest(t, in, r)

		// Round trip through the parsed fields.
		again := format(r)
		r2, n2, err := Parse(again, Limits{MaxHead: len(again), MaxBody: lim.MaxBody})
		if err != nil || n2 != len(again) || *r2 != *r {
			t.Fatalf("%q parsed to %+v; formatted again %q it parses to %+v (%v)", in, r, again, r2, err)
		}

		// The oracle. Leading blank lines are Parse's courtesy, not net/http's.
		head := bytes.TrimLeft(in[:n], "\r\n")
		hr, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(head)))
		if err != nil {
			t.Fatalf("%q: Parse accepts %+v, net/http refuses: %v", head, r, err)
		}
		hpath := hr.URL.Path
		if hpath == "" {
			hpath = "/" // "http://host" names the root (RFC 9110 §4.2.3); net/http leaves it empty
		}
		if hr.Method != r.Method || hpath != r.Path || hr.Host != r.Host || hr.ProtoMinor != r.Minor ||
			hr.Close == r.KeepAlive || hr.ContentLength != r.BodyLen {
			t.Fatalf("%q: Parse %+v, net/http %s %q host %q 1.%d close %v length %d",
				head, r, hr.Method, hr.URL.Path, hr.Host, hr.ProtoMinor, hr.Close, hr.ContentLength)
		}
		for name, got := range map[string]string{"Range": r.Range, "If-Modified-Since": r.IfModifiedSince} {
			if vs := hr.Header.Values(name); len(vs) > 0 && vs[len(vs)-1] != got || len(vs) == 0 && got != "" {
				t.Fatalf("%q: %s %q, net/http %q", head, name, got, vs)
			}
		}
	})
}

// knownStatus is the statuses Parse documents.
var knownStatus = map[int]bool{400: true, 413: true, 414: true, 431: true, 505: true}

// checkRequest checks the invariants of a parsed request.
func checkRequest(t *testing.T, in []byte, r *Request) {
	t.Helper()
	if !strings.HasPrefix(r.Path, "/") || strings.IndexByte(r.Path, 0) >= 0 {
		t.Fatalf("%q: path %q", in, r.Path)
	}
	if !isToken(r.Method) || r.Minor != 0 && r.Minor != 1 || r.BodyLen < 0 || r.BodyLen > lim.MaxBody {
		t.Fatalf("%q: %+v", in, r)
	}
	if r.Minor == 0 && r.KeepAlive && !strings.Contains(strings.ToLower(string(in)), "keep-alive") {
		t.Fatalf("%q: HTTP/1.0 kept alive without asking", in)
	}
	for _, s := range []string{r.Target, r.Host, r.Range, r.IfModifiedSince} {
		if strings.ContainsAny(s, "\x00\r\n") {
			t.Fatalf("%q: a field holds a control character: %+v", in, r)
		}
	}
}

// format writes r's fields back as a request head.
func format(r *Request) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.%d\r\n", r.Method, r.Target, r.Minor)
	if r.Minor == 1 || r.Host != "" {
		fmt.Fprintf(&b, "Host: %s\r\n", r.Host)
	}
	switch {
	case r.Minor == 1 && !r.KeepAlive:
		b.WriteString("Connection: close\r\n")
	case r.Minor == 0 && r.KeepAlive:
		b.WriteString("Connection: keep-alive\r\n")
	}
	if r.Range != "" {
		fmt.Fprintf(&b, "Range: %s\r\n", r.Range)
	}
	if r.IfModifiedSince != "" {
		fmt.Fprintf(&b, "If-Modified-Since: %s\r\n", r.IfModifiedSince)
	}
	if r.BodyLen != 0 {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", r.BodyLen)
	}
	b.WriteString("\r\n")
	return b.Bytes()
}
