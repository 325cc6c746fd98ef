// Command fileserve is a static HTTP/1.1 file server built on overlap's
// socket actors, without net/http. Every response is one send of the header
// with the file's first region, which the kernel copies from the page cache
// (actor.Send.File, sendfile: Winsock's TransmitFile); further regions go
// only as the completions of earlier ones arrive, so a file of any size
// streams with no buffer of the server's. A body of 64 KiB or less is
// copied into a pooled buffer instead and leaves with its header in one
// write. The server is package server, which bench/ runs too.
//
//	go run ./examples/fileserve [-addr 127.0.0.1:8080] [-root DIR] [-loops N]
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
	"time"

	"github.com/overlapio/overlap/examples/fileserve/server"
	"github.com/overlapio/overlap/internal/serve"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on (port 0 picks one)")
	root := flag.String("root", ".", "the directory to serve")
	timeout := flag.Duration("read-timeout", 30*time.Second, "close a connection idle or slow this long")
	maxConns := flag.Int("max-conns", 10000, "connections served at once; more get 503")
	loops := flag.Int("loops", 0, "event loops (0: one per CPU)")
	flag.Parse()

	serve.Main("fileserve", func(ctx context.Context) (*server.Server, error) {
		return server.Start(ctx, *addr, server.Config{Root: *root, ReadTimeout: *timeout, MaxConns: *maxConns, Loops: *loops})
	})
}
