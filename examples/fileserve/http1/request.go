// Package http1 parses the HTTP/1.1 requests of examples/fileserve: the
// request head only (a static file server reads no bodies), strictly, with
// limits, and with the status code each refusal calls for.
package http1

import (
	"bytes"
	"errors"
	"net/url"
	"strconv"
	"strings"
)

// Limits bound what a request head may be.
type Limits struct {
	// MaxHead is the most bytes a request head (request line and headers,
	// up to the blank line) may take: past it, 431 (or 414 while the
	// request line itself is still unfinished).
	MaxHead int
	// MaxBody is the largest Content-Length accepted, and discarded, with a
	// GET or HEAD: past it, 413.
	MaxBody int64
}

// Request is one parsed request head.
type Request struct {
	Method string // "GET", "HEAD", or any other token (the server answers 405)
	Target string // the request target as sent
	Path   string // Target's path, percent-decoded; always starts with "/"
	Minor  int    // HTTP/1.Minor

	// Host is the Host field, or the host of an absolute-form target
	// (which takes precedence, RFC 9112 §3.2.2).
	Host            string
	Range           string // the Range header, unparsed
	IfModifiedSince string
	// KeepAlive reports whether the connection stays open after the
	// response: HTTP/1.1 unless "Connection: close", HTTP/1.0 only with
	// "Connection: keep-alive".
	KeepAlive bool
	// BodyLen is the Content-Length of a body the server must read past.
	BodyLen int64
}

// Error is a request the server refuses, with the status to answer.
type Error struct {
	Status int
	Reason string
}

func (e *Error) Error() string { return strconv.Itoa(e.Status) + " " + e.Reason }

// ErrIncomplete means the head has not all arrived: read more and call
// Parse again with everything received so far.
var ErrIncomplete = errors.New("http1: incomplete request head")

func fail(status int, reason string) error { return &Error{Status: status, Reason: reason} }

// Parse parses the request head at the start of buf. It returns the
// request and the bytes the head took (the body, if any, follows), or
// ErrIncomplete, or an *Error. Leading blank lines are skipped, as RFC 9112
// asks of servers.
func Parse(buf []byte, lim Limits) (*Request, int, error) {
	start := 0
	for start < len(buf) && (buf[start] == '\r' || buf[start] == '\n') {
		start++
	}
	end := bytes.Index(buf[start:], []byte("\r\n\r\n"))
	if end < 0 {
		if len(buf)-start > lim.MaxHead {
			if bytes.IndexByte(buf[start:], '\n') < 0 {
				return nil, 0, fail(414, "URI Too Long")
			}
			return nil, 0, fail(431, "Request Header Fields Too Large")
		}
		return nil, 0, ErrIncomplete
	}
	if end+4 > lim.MaxHead {
		return nil, 0, fail(431, "Request Header Fields Too Large")
	}
	head := string(buf[start : start+end])
	n := start + end + 4
	line, fields, _ := strings.Cut(head, "\r\n")
	r, err := parseRequestLine(line)
	if err != nil {
		return nil, 0, err
	}
	if err := r.parseHeaders(fields, lim); err != nil {
		return nil, 0, err
	}
	return r, n, nil
}

func parseRequestLine(line string) (*Request, error) {
	method, rest, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || !isToken(method) || target == "" || strings.IndexFunc(target, isCTL) >= 0 {
		return nil, fail(400, "Bad Request")
	}
	r := &Request{Method: method, Target: target}
	switch proto {
	case "HTTP/1.1":
		r.Minor = 1
	case "HTTP/1.0":
	default:
		if strings.HasPrefix(proto, "HTTP/") {
			return nil, fail(505, "HTTP Version Not Supported")
		}
		return nil, fail(400, "Bad Request")
	}
	p := target
	if !strings.HasPrefix(p, "/") {
		// The absolute form (a proxy request) names a path too. A request
		// target has no fragment: parse it as one (as net/http does), not
		// as a URL whose '#' would start one.
		u, err := url.ParseRequestURI(target)
		if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
			return nil, fail(400, "Bad Request")
		}
		p = u.EscapedPath()
		if p == "" {
			p = "/"
		}
		r.Host = u.Host // RFC 9112 §3.2.2: the target's host, not the Host field's
	}
	p, _, _ = strings.Cut(p, "?")
	path, err := url.PathUnescape(p)
	if err != nil || strings.IndexByte(path, 0) >= 0 || !strings.HasPrefix(path, "/") {
		return nil, fail(400, "Bad Request")
	}
	r.Path = path
	return r, nil
}

func (r *Request) parseHeaders(fields string, lim Limits) error {
	r.KeepAlive = r.Minor == 1
	var hosts, lengths int
	for fields != "" {
		var f string
		f, fields, _ = strings.Cut(fields, "\r\n")
		name, value, ok := strings.Cut(f, ":")
		if !ok || !isToken(name) { // also refuses obsolete line folding
			return fail(400, "Bad Request")
		}
		value = strings.Trim(value, " \t")
		if strings.IndexFunc(value, func(c rune) bool { return c != '\t' && isCTL(c) }) >= 0 {
			// RFC 9110 §5.5: CR, LF and NUL in a value are dangerous; no
			// control character but HTAB belongs there.
			return fail(400, "Bad Request")
		}
		switch strings.ToLower(name) {
		case "host":
			hosts++
			if r.Target[0] == '/' { // origin form; see parseRequestLine
				r.Host = value
			}
		case "connection":
			for _, opt := range strings.Split(value, ",") {
				switch strings.ToLower(strings.TrimSpace(opt)) {
				case "close":
					r.KeepAlive = false
				case "keep-alive":
					r.KeepAlive = r.KeepAlive || r.Minor == 0
				}
			}
		case "range":
			r.Range = value
		case "if-modified-since":
			r.IfModifiedSince = value
		case "content-length":
			// RFC 9112 §6.3: 1*DIGIT ("+5" is no length), and several
			// fields must agree (a 0 among them too).
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil || value[0] < '0' || value[0] > '9' || lengths > 0 && r.BodyLen != n {
				return fail(400, "Bad Request")
			}
			lengths++
			if n > lim.MaxBody {
				return fail(413, "Content Too Large")
			}
			r.BodyLen = n
		case "transfer-encoding":
			// A chunked body cannot be skipped without parsing it; no GET
			// needs one.
			return fail(413, "Content Too Large")
		}
	}
	if r.Minor == 1 && hosts != 1 {
		return fail(400, "Bad Request") // RFC 9112 §3.2: exactly one Host
	}
	return nil
}

// isCTL reports whether c is an ASCII control character.
func isCTL(c rune) bool { return c < ' ' || c == 0x7f }

// isToken reports whether s is an RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return true
}
