package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	protoactor "github.com/asynkron/protoactor-go/actor"
	"github.com/panjf2000/gnet/v2"

	"github.com/overlapio/overlap/actor"
	fileserve "github.com/overlapio/overlap/examples/fileserve/server"
	"github.com/overlapio/overlap/internal/echo"
	"github.com/overlapio/overlap/transport"
)

// The servers the suite compares, each run as its own process; in echo
// mode (the push modes are described in their families' files):
//
//	overlap: socket actors, each received buffer sent back with an
//	         overlapped send that holds it: examples/echo's handler and
//	         options (reads lent, actor.Options.LendReceived).
//	overlap-copy: the same with reads copied into pooled buffers, the
//	         default (not run unless asked for with -servers).
//	gnet:    a raw gnet echo (c.Next then c.Write in OnTraffic), the
//	         ceiling for any design on gnet; with GOMAXPROCS one above its
//	         loops, as examples/echo's engine keeps it
//	         (transport.Config.SpareProcessor).
//	netconn: a goroutine per connection copying with a 64 KiB buffer, on
//	         the default GOMAXPROCS (one more P made no difference to it;
//	         README, Benchmarks).
//
// Every server gets -loops event loops (the number of CPUs by default);
// on the 2-core machine of the reports, that is two loops sharing the cores
// with the load generator.
var serverKinds = []string{"overlap", "gnet", "netconn", "overlap-copy"}

// The HTTP file servers, serving the directory root:
//
//	fileserve: examples/fileserve's server (its package server).
//	nethttp:   net/http's FileServer on an http.Server.
var fileServerKinds = []string{"fileserve", "nethttp"}

// serverMode is what a server does with its connections: echo what they
// send (the default), or push frames to them unasked (the fan-in, fan-out
// and gather families). Each family's file has its servers of every kind.
type serverMode struct {
	Name    string // echo, fanin, fanout, gather
	Size    int    // bytes of a frame (fan-in, fan-out) or of a segment (gather)
	Senders int    // fan-in: concurrent senders to the one connection
	Actors  bool   // fan-in, overlap: the senders are actors, not goroutines
	Segs    int    // gather: segments in one message
	Rate    int    // fan-out: broadcasts a second
	Write   string // gather, netconn: "segments" (a Write each) or "buffers" (net.Buffers)
}

// flags registers m's fields as the server subcommand's flags.
func (m *serverMode) flags(fs *flag.FlagSet) {
	fs.StringVar(&m.Name, "mode", "echo", "echo, or push frames: fanin, fanout, gather")
	fs.IntVar(&m.Size, "size", 64, "frame or segment bytes (push modes)")
	fs.IntVar(&m.Senders, "senders", 64, "fanin: concurrent senders")
	fs.BoolVar(&m.Actors, "actors", false, "fanin, overlap: actors send instead of goroutines")
	fs.IntVar(&m.Segs, "segs", 16, "gather: segments a message")
	fs.IntVar(&m.Rate, "rate", 1000, "fanout: broadcasts a second")
	fs.StringVar(&m.Write, "write", "segments", "gather, netconn: segments (a Write each) or buffers (net.Buffers.WriteTo)")
}

// modeServers is one mode's servers: the overlap handler and its socket
// options, the raw gnet handler, and what a net.Conn server runs for each
// connection (in a goroutine of its own).
type modeServers struct {
	overlap     *protoactor.Props
	overlapOpts actor.Options
	gnet        gnetHandler
	netconn     func(net.Conn)
	spareP      bool // overlap's engine keeps a P spare beside its loops, and raw gnet is run the same way
}

// servers returns the servers of m's mode; sys is the overlap server's
// System (nil for the others).
func (m serverMode) servers(kind string, sys *actor.System) (modeServers, error) {
	switch m.Name {
	case "echo":
		opts := echo.Options // examples/echo's handler and options
		opts.LendReceived = kind == "overlap"
		return modeServers{overlap: echo.Props(), overlapOpts: opts, gnet: &gnetEcho{}, spareP: echo.SpareProcessor,
			netconn: func(c net.Conn) {
				buf := make([]byte, 64<<10)
				_, _ = io.CopyBuffer(c, readerOnly{c}, buf)
			}}, nil
	case "fanin":
		return fanInServers(m, sys), nil
	case "fanout":
		return fanOutServers(m, kind), nil
	case "gather":
		return gatherServers(m)
	}
	return modeServers{}, fmt.Errorf("unknown mode %q (want echo, fanin, fanout or gather)", m.Name)
}

// runServer serves kind (in mode, for the echo and push kinds; from root,
// for the file servers) on addr, prints "listening on ADDR" and runs until
// SIGINT/SIGTERM. A non-nil onStop runs when the signal comes, before the
// server closes anything (the heap profile of -memprofile).
func runServer(kind, addr string, loops int, mode serverMode, root string, onStop func()) error {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	stop := make(chan struct{})
	go func() {
		<-sig
		if onStop != nil {
			onStop()
		}
		close(stop)
	}()
	if slices.Contains(fileServerKinds, kind) {
		return runFileServer(kind, addr, loops, root, stop)
	}
	if !slices.Contains(serverKinds, kind) {
		return fmt.Errorf("unknown server kind %q (want one of %v)", kind, append(serverKinds, fileServerKinds...))
	}
	var sys *actor.System
	if kind == "overlap" || kind == "overlap-copy" {
		sys = actor.NewSystem()
		defer sys.Stop()
	}
	srv, err := mode.servers(kind, sys)
	if err != nil {
		return err
	}
	switch kind {
	case "overlap", "overlap-copy":
		eng, err := transport.NewEngine(sys, transport.Config{Loops: loops, SpareProcessor: srv.spareP})
		if err != nil {
			return err
		}
		ln, err := eng.Listen("tcp", addr, srv.overlap, transport.WithSocketOptions(srv.overlapOpts))
		if err != nil {
			return err
		}
		fmt.Printf("listening on %s\n", ln.Addr())
		<-stop
		return eng.Stop(context.Background())
	case "gnet":
		// One P spare beside the loops when overlap's engine keeps one
		// (echo, as examples/echo does), by transport's own rule: the
		// ceiling for a design on gnet runs its loops as well as gnet can
		// be run. Not in the push modes: there raw gnet's senders have no
		// backpressure (AsyncWritev calls back once it has copied), and
		// with a P of their own they outran its loop until it flushed
		// nothing (gather, 64 × 1 KiB: 16 messages a second).
		if srv.spareP {
			defer transport.KeepProcessorSpare(loops)()
		}
		h := srv.gnet
		ready := make(chan gnet.Engine, 1)
		h.setReady(ready)
		errc := make(chan error, 1)
		go func() {
			errc <- gnet.Run(h, "tcp://"+addr, gnet.WithMulticore(loops > 1), gnet.WithNumEventLoop(loops), gnet.WithTCPNoDelay(gnet.TCPNoDelay), gnet.WithLogger(quiet{}))
		}()
		var eng gnet.Engine
		select {
		case eng = <-ready:
		case err := <-errc:
			return err
		}
		fd, err := eng.Dup()
		if err != nil {
			return err
		}
		f := os.NewFile(uintptr(fd), "listener")
		l, err := net.FileListener(f)
		f.Close()
		if err != nil {
			return err
		}
		fmt.Printf("listening on %s\n", l.Addr())
		l.Close()
		<-stop
		return eng.Stop(context.Background())
	default: // netconn
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		fmt.Printf("listening on %s\n", l.Addr())
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					srv.netconn(c)
				}()
			}
		}()
		<-stop
		return l.Close()
	}
}

// runFileServer serves root over HTTP with the file server kind until stop
// is closed.
func runFileServer(kind, addr string, loops int, root string, stop <-chan struct{}) error {
	switch kind {
	case "fileserve":
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		srv, err := fileserve.Start(ctx, addr, fileserve.Config{Root: root, Loops: loops, ReadTimeout: time.Minute})
		if err != nil {
			return err
		}
		fmt.Printf("listening on %s\n", srv.Addr())
		<-stop
		cancel()
		return srv.Wait()
	case "nethttp":
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		hs := &http.Server{Handler: http.FileServer(http.Dir(root)), ReadHeaderTimeout: time.Minute}
		fmt.Printf("listening on %s\n", l.Addr())
		errc := make(chan error, 1)
		go func() { errc <- hs.Serve(l) }()
		select {
		case err := <-errc:
			return err
		case <-stop:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return hs.Shutdown(ctx)
	}
	return fmt.Errorf("unknown file server kind %q (want one of %v)", kind, fileServerKinds)
}

// readerOnly hides net.Conn's ReadFrom/WriteTo so io.CopyBuffer uses the
// plain read-write loop a goroutine-per-connection server has.
type readerOnly struct{ io.Reader }

// gnetHandler is a raw gnet server's handler; setReady gives it the
// channel its OnBoot hands the engine to.
type gnetHandler interface {
	gnet.EventHandler
	setReady(chan<- gnet.Engine)
}

// gnetBoot is the part of every raw gnet handler that reports the engine
// once it has booted.
type gnetBoot struct {
	gnet.BuiltinEventEngine
	ready chan<- gnet.Engine
}

func (h *gnetBoot) setReady(c chan<- gnet.Engine) { h.ready = c }

func (h *gnetBoot) OnBoot(e gnet.Engine) gnet.Action {
	h.ready <- e
	return gnet.None
}

// gnetEcho is the raw gnet echo.
type gnetEcho struct{ gnetBoot }

func (h *gnetEcho) OnTraffic(c gnet.Conn) gnet.Action {
	buf, _ := c.Next(-1)
	_, _ = c.Write(buf)
	return gnet.None
}

// quiet is a gnet logger that drops everything, so the raw gnet server
// prints only its "listening on" line.
type quiet struct{}

func (quiet) Debugf(string, ...any) {}
func (quiet) Infof(string, ...any)  {}
func (quiet) Warnf(string, ...any)  {}
func (quiet) Errorf(string, ...any) {}
func (quiet) Fatalf(string, ...any) {}
