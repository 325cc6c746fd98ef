package server

import (
	"errors"
	"fmt"
	"mime"
	"os"
	"path"
	"strconv"
	"sync/atomic"
	"time"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/actor"
	"github.com/overlapio/overlap/examples/fileserve/http1"
	"github.com/overlapio/overlap/examples/fileserve/webroot"
	"github.com/overlapio/overlap/wsabuf"
)

// A body leaves in sends of file regions of chunkSize bytes, inFlight of
// them outstanding at once; the kernel copies them from the page cache
// (actor.Send.File, sendfile), so a response holds no buffer (and file
// regions do not count toward the socket's pending-bytes limits). A
// region's completion is also the response's sign of progress, which
// resets the read timeout: with 512 KiB regions a client that takes less
// than 512 KiB per ReadTimeout (17 KB/s at the default 30 s) is cut off.
// Eight in flight (4 MiB) let the socket's writer send them in one
// sendfile call per socket buffer's worth (it merges regions that carry
// on from one another), as net/http's 4 MiB calls do, while each still
// completes on its own.
//
// A body of smallBody bytes or less is read into a pooled buffer instead
// and leaves with its head in one writev: one write and one TCP segment,
// where a region would take a write for the head and a sendfile for the
// body (bench h: a 1 KiB request cost 0.59× net/http's CPU this way, 0.69×
// as head and region).
const (
	chunkSize = 512 << 10
	inFlight  = 8
	smallBody = 64 << 10
)

var limits = http1.Limits{MaxHead: 8 << 10, MaxBody: 64 << 10}

// conn is one connection's actor. Its fields are its own: an actor handles
// one message at a time.
type conn struct {
	root  *webroot.Root
	cfg   Config
	conns *atomic.Int64 // connections open, server-wide

	sock    *actor.Socket
	self    *protoactor.PID
	counted bool
	in      []byte           // received bytes not parsed yet
	skip    int64            // body bytes still to discard
	queue   []*http1.Request // parsed requests waiting (pipelining)
	failed  *http1.Error     // a refused request: answered after the queue, then close
	resp    *response        // the response being sent; nil when idle
	last    bool             // no request after the queued ones
}

// response is the state of one response in flight.
type response struct {
	f        *os.File // nil for a response without a file body
	off, end int64    // the next file byte to send, one past the last
	pending  int      // sends not completed yet
	keep     bool     // the connection stays open after it
}

// Receive handles the socket's messages.
func (c *conn) Receive(ctx protoactor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Connected:
		c.sock, c.self = m.Socket, ctx.Self()
		c.counted = true
		if n := c.conns.Add(1); c.cfg.MaxConns > 0 && n > int64(c.cfg.MaxConns) {
			c.last = true
			c.failed = &http1.Error{Status: 503, Reason: "Service Unavailable"}
			c.next()
			return
		}
		if c.cfg.ReadTimeout > 0 {
			ctx.SetReceiveTimeout(c.cfg.ReadTimeout)
		}
	case *actor.Received:
		if !c.last {
			c.in = append(c.in, m.Data.Bytes()...)
			c.parse()
		}
		m.Data.Release()
		c.next()
	case *actor.Completion:
		if m.Err != nil {
			_ = c.sock.Abort()
			return
		}
		if c.resp != nil {
			c.resp.pending--
			c.pump()
		}
	case *protoactor.ReceiveTimeout:
		if c.resp == nil && len(c.in) == 0 {
			_ = c.sock.Close() // an idle keep-alive connection: a clean close
		} else {
			_ = c.sock.Abort() // too slow to send a request or to take a response
		}
	case *actor.Closed:
		if c.counted {
			c.conns.Add(-1)
		}
		if c.resp != nil && c.resp.f != nil {
			c.resp.f.Close()
		}
	}
}

// parse takes the complete request heads out of c.in.
func (c *conn) parse() {
	for !c.last {
		if c.skip > 0 {
			n := min(c.skip, int64(len(c.in)))
			c.in, c.skip = c.in[n:], c.skip-n
			if c.skip > 0 {
				return
			}
		}
		r, n, err := http1.Parse(c.in, limits)
		if errors.Is(err, http1.ErrIncomplete) {
			return
		}
		if err != nil {
			c.failed, _ = err.(*http1.Error)
			c.last = true
			return
		}
		c.in = c.in[n:]
		c.skip = r.BodyLen
		c.queue = append(c.queue, r)
		c.last = !r.KeepAlive
	}
}

// next starts the next response when none is in flight.
func (c *conn) next() {
	if c.resp != nil {
		return
	}
	switch {
	case len(c.queue) > 0:
		r := c.queue[0]
		c.queue = c.queue[1:]
		c.serve(r, r.KeepAlive)
	case c.failed != nil:
		e := c.failed
		c.failed = nil
		c.plain(e.Status, e.Reason, false, "")
	case c.last:
		_ = c.sock.Close()
	}
}

// serve answers one request.
func (c *conn) serve(r *http1.Request, keep bool) {
	if r.Method != "GET" && r.Method != "HEAD" {
		c.plain(405, "Method Not Allowed", keep, "Allow: GET, HEAD\r\n")
		return
	}
	f, info, err := c.root.Lookup(r.Path)
	switch {
	case errors.Is(err, webroot.ErrNotFound):
		c.plain(404, "Not Found", keep, "")
		return
	case err != nil:
		c.plain(403, "Forbidden", keep, "")
		return
	}
	mod := info.ModTime()
	extra := "Last-Modified: " + http1.FormatTime(mod) + "\r\nAccept-Ranges: bytes\r\n"
	if http1.NotModified(r.IfModifiedSince, mod) {
		f.Close()
		c.start(header(304, "", -1, keep, extra), nil, keep)
		return
	}
	size := info.Size()
	status, first, last := 200, int64(0), size
	rg, ok, err := http1.ParseRange(r.Range, size)
	switch {
	case err != nil:
		f.Close()
		c.plain(416, "Range Not Satisfiable", keep, "Content-Range: bytes */"+strconv.FormatInt(size, 10)+"\r\n")
		return
	case ok:
		status, first, last = 206, rg.Start, rg.End+1
		extra += fmt.Sprintf("Content-Range: bytes %d-%d/%d\r\n", rg.Start, rg.End, size)
	}
	ctype := mime.TypeByExtension(path.Ext(info.Name()))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	h := header(status, ctype, last-first, keep, extra)
	if r.Method == "HEAD" {
		f.Close()
		c.start(h, nil, keep)
		return
	}
	c.resp = &response{f: f, off: first, end: last, keep: keep}
	c.pumpWith(h)
}

// plain answers with a status and a one-line text body.
func (c *conn) plain(status int, reason string, keep bool, extra string) {
	body := []byte(strconv.Itoa(status) + " " + reason + "\n")
	c.start(header(status, "text/plain; charset=utf-8", int64(len(body)), keep, extra), body, keep)
}

// header renders a response head. length < 0 leaves out Content-Length.
func header(status int, ctype string, length int64, keep bool, extra string) []byte {
	h := fmt.Appendf(nil, "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: overlap-fileserve\r\n", status, reasons[status], http1.FormatTime(time.Now()))
	if ctype != "" {
		h = fmt.Appendf(h, "Content-Type: %s\r\n", ctype)
	}
	if length >= 0 {
		h = fmt.Appendf(h, "Content-Length: %d\r\n", length)
	}
	h = append(h, extra...)
	if keep {
		h = append(h, "Connection: keep-alive\r\n\r\n"...)
	} else {
		h = append(h, "Connection: close\r\n\r\n"...)
	}
	return h
}

var reasons = map[int]string{200: "OK", 206: "Partial Content", 304: "Not Modified", 400: "Bad Request",
	403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 413: "Content Too Large", 414: "URI Too Long",
	416: "Range Not Satisfiable", 431: "Request Header Fields Too Large", 503: "Service Unavailable",
	505: "HTTP Version Not Supported"}

// start sends a response that has no file body: head and body in one
// gather send.
func (c *conn) start(head, body []byte, keep bool) {
	c.resp = &response{keep: keep}
	c.send(wsabuf.Buffers{head, body}, nil)
}

// pumpWith sends the head with the file's first chunk, then pumps.
func (c *conn) pumpWith(head []byte) {
	if c.resp.off == c.resp.end {
		c.send(wsabuf.Buffers{head}, nil)
		return
	}
	if c.resp.end-c.resp.off <= smallBody {
		c.sendSmall(head)
	} else {
		c.sendChunk(head)
	}
	c.pump()
}

// pump keeps up to inFlight chunks of the file in flight, and finishes the
// response when the last has completed.
func (c *conn) pump() {
	r := c.resp
	for r.f != nil && r.pending < inFlight && r.off < r.end {
		if !c.sendChunk(nil) {
			return
		}
	}
	if r.pending > 0 || r.f != nil && r.off < r.end {
		return
	}
	if r.f != nil {
		r.f.Close()
	}
	c.resp = nil
	if !r.keep {
		c.last, c.queue, c.failed = true, nil, nil
	}
	c.next()
}

// sendChunk sends the file's next region, after head if there is one. A
// file that shrank under the response fails the send and resets the
// connection (see actor.Send.File). It reports false when it failed and
// reset the connection.
func (c *conn) sendChunk(head []byte) bool {
	r := c.resp
	n := min(int64(chunkSize), r.end-r.off)
	region := &actor.FileRegion{File: r.f, Offset: r.off, Length: n}
	r.off += n
	var bufs wsabuf.Buffers
	if head != nil {
		bufs = wsabuf.Buffers{head}
	}
	return c.send(bufs, region)
}

// sendSmall reads the whole (small) body into a pooled buffer and sends it
// with head, the buffer held until the completion.
func (c *conn) sendSmall(head []byte) bool {
	r := c.resp
	buf, err := wsabuf.Default().Get(int(r.end - r.off))
	if err != nil {
		_ = c.sock.Abort()
		return false
	}
	if _, err := r.f.ReadAt(buf.Bytes(), r.off); err != nil {
		buf.Release()
		_ = c.sock.Abort() // the file shrank or failed: the response cannot be completed
		return false
	}
	r.off = r.end
	m := &actor.Send{Buffers: wsabuf.Buffers{head, buf.Bytes()}, Hold: buf, ReplyTo: c.self}
	return c.submit(m)
}

// send submits one send of the current response, its completion to this
// actor.
func (c *conn) send(bufs wsabuf.Buffers, file *actor.FileRegion) bool {
	return c.submit(&actor.Send{Buffers: bufs, File: file, ReplyTo: c.self})
}

// submit submits m, one send of the current response.
func (c *conn) submit(m *actor.Send) bool {
	if err := c.sock.Send(m); !errors.Is(err, actor.ErrIOPending) {
		_ = c.sock.Abort()
		return false
	}
	c.resp.pending++
	return true
}
