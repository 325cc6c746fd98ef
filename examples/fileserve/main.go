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
	MaxConns    int           // connections past this get 503; 0: no limit
}

// Server is a running file server.
type Server struct {
	*serve.Listening
	dir string // the document root's path
}

// Start serves cfg.Root on addr until ctx ends.
func Start(ctx context.Context, addr string, cfg Config) (*Server, error) {
	root, err := webroot.Open(cfg.Root)
	if err != nil {
		return nil, err
	}
	conns := new(atomic.Int64)
	l, err := serve.Listen(ctx, transport.Config{}, addr, func(*actor.System) *protoactor.Props {
		return protoactor.PropsFromProducer(func() protoactor.Actor { return &conn{root: root, cfg: cfg, conns: conns} })
	})
	if err != nil {
		root.Close()
		return nil, err
	}
	l.OnStop(func() { root.Close() })
	return &Server{Listening: l, dir: cfg.Root}, nil
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
