// Command fileserve is a static HTTP/1.1 file server built on overlap's
// socket actors, without net/http. Every response is a gather send: the
// header and the file's first chunk leave in one write, and further chunks
// (pooled buffers) are read only as the completions of earlier ones arrive,
// so a 10 GB file streams in a few hundred KiB of memory.
//
//	go run ./examples/fileserve [-addr 127.0.0.1:8080] [-root DIR]
//
// It serves GET and HEAD (405 otherwise); keep-alive and pipelined
// requests; a single Range (206, 416); Content-Type by extension;
// Last-Modified and If-Modified-Since (304); a directory's index.html (or
// 404). Malformed requests get 400, oversized ones 413, 414 or 431, and
// nothing outside -root is served, by ".." or symlink (403). Idle or slow
// clients are closed after -read-timeout; past -max-conns connections, new
// ones get 503.
//
// It prints one line, "listening on HOST:PORT", when it is ready, and stops
// on SIGINT or SIGTERM: it stops accepting, lets responses in flight drain,
// and exits 0.
package main

import (
	"context"
	"flag"
	"sync/atomic"
	"time"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/actor"
	"github.com/overlapio/overlap/examples/fileserve/webroot"
	"github.com/overlapio/overlap/internal/serve"
	"github.com/overlapio/overlap/transport"
)

// Config is the server's configuration.
type Config struct {
	Root        string        // the document root
	ReadTimeout time.Duration // idle or slow clients are closed after this
	MaxConns    int           // connections past this get 503
}

// Server is a running file server.
type Server struct {
	sys  *actor.System
	eng  *transport.Engine
	ln   *transport.Listener
	root *webroot.Root
	dir  string // the document root's path
}

// Start serves cfg.Root on addr until ctx ends.
func Start(ctx context.Context, addr string, cfg Config) (*Server, error) {
	root, err := webroot.Open(cfg.Root)
	if err != nil {
		return nil, err
	}
	sys := actor.NewSystem()
	eng, err := transport.NewEngine(sys, transport.Config{Context: ctx})
	if err != nil {
		sys.Stop()
		root.Close()
		return nil, err
	}
	conns := new(atomic.Int64)
	props := protoactor.PropsFromProducer(func() protoactor.Actor {
		return &conn{root: root, cfg: cfg, conns: conns}
	})
	ln, err := eng.Listen("tcp", addr, props)
	if err != nil {
		_ = eng.Stop(context.Background())
		sys.Stop()
		root.Close()
		return nil, err
	}
	return &Server{sys: sys, eng: eng, ln: ln, root: root, dir: cfg.Root}, nil
}

// Addr is the bound address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Wait blocks until the server has stopped and returns how the stop went.
func (s *Server) Wait() error {
	<-s.eng.Done()
	s.sys.Stop()
	s.root.Close()
	return s.eng.Err()
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on (port 0 picks one)")
	root := flag.String("root", ".", "the directory to serve")
	timeout := flag.Duration("read-timeout", 30*time.Second, "close a connection idle or slow this long")
	maxConns := flag.Int("max-conns", 10000, "connections served at once; more get 503")
	flag.Parse()

	serve.Main("fileserve", func(ctx context.Context) (*Server, error) {
		return Start(ctx, *addr, Config{Root: *root, ReadTimeout: *timeout, MaxConns: *maxConns})
	})
}
