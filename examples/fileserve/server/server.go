// Package server is examples/fileserve's file server: the connection actor
// that parses requests and paces each response's gather sends by their
// completions. It is a package of its own so that bench/ measures exactly
// the server the command runs.
package server

import (
	"context"
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
	Loops       int           // event loops; 0: one per CPU
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
	l, err := serve.Listen(ctx, transport.Config{Loops: cfg.Loops}, addr, func(*actor.System) *protoactor.Props {
		return protoactor.PropsFromProducer(func() protoactor.Actor { return &conn{root: root, cfg: cfg, conns: conns} })
	})
	if err != nil {
		root.Close()
		return nil, err
	}
	l.OnStop(func() { root.Close() })
	return &Server{Listening: l, dir: cfg.Root}, nil
}
