package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/overlapio/overlap/actor"
	fileserve "github.com/overlapio/overlap/examples/fileserve/server"
	"github.com/overlapio/overlap/internal/echo"
	"github.com/overlapio/overlap/transport"
)

// The echo servers the suite compares, each run as its own process:
//
//	overlap: socket actors, each received buffer sent back with an
//	         overlapped send that holds it: examples/echo's handler and
//	         options (reads lent, actor.Options.LendReceived).
//	overlap-copy: the same with reads copied into pooled buffers, the
//	         default (not run unless asked for with -servers).
//	gnet:    a raw gnet echo (c.Next then c.Write in OnTraffic), the
//	         ceiling for any design on gnet.
//	netconn: a goroutine per connection copying with a 64 KiB buffer.
var serverKinds = []string{"overlap", "gnet", "netconn", "overlap-copy"}

// The HTTP file servers, serving the directory root:
//
//	fileserve: examples/fileserve's server (its package server).
//	nethttp:   net/http's FileServer on an http.Server.
var fileServerKinds = []string{"fileserve", "nethttp"}

// runServer serves kind on addr, prints "listening on ADDR" and runs until
// SIGINT/SIGTERM. The file servers serve root. A non-nil onStop runs when the signal comes, before the
// server closes anything (the heap profile of -memprofile).
func runServer(kind, addr string, loops int, root string, onStop func()) error {
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
	switch kind {
	case "overlap", "overlap-copy":
		sys := actor.NewSystem()
		defer sys.Stop()
		eng, err := transport.NewEngine(sys, transport.Config{Loops: loops})
		if err != nil {
			return err
		}
		opts := echo.Options // examples/echo's handler and options
		opts.LendReceived = kind == "overlap"
		ln, err := eng.Listen("tcp", addr, echo.Props(), transport.WithSocketOptions(opts))
		if err != nil {
			return err
		}
		fmt.Printf("listening on %s\n", ln.Addr())
		<-stop
		return eng.Stop(context.Background())
	case "gnet":
		h := &gnetEcho{ready: make(chan gnet.Engine, 1)}
		errc := make(chan error, 1)
		go func() {
			errc <- gnet.Run(h, "tcp://"+addr, gnet.WithMulticore(loops > 1), gnet.WithNumEventLoop(loops), gnet.WithTCPNoDelay(gnet.TCPNoDelay), gnet.WithLogger(quiet{}))
		}()
		var eng gnet.Engine
		select {
		case eng = <-h.ready:
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
	case "netconn":
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
					buf := make([]byte, 64<<10)
					_, _ = io.CopyBuffer(c, readerOnly{c}, buf)
				}()
			}
		}()
		<-stop
		return l.Close()
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
	return fmt.Errorf("unknown server kind %q (want one of %v)", kind, append(serverKinds, fileServerKinds...))
}

// readerOnly hides net.Conn's ReadFrom/WriteTo so io.CopyBuffer uses the
// plain read-write loop a goroutine-per-connection server has.
type readerOnly struct{ io.Reader }

type gnetEcho struct {
	gnet.BuiltinEventEngine
	ready chan gnet.Engine
}

func (h *gnetEcho) OnBoot(e gnet.Engine) gnet.Action {
	h.ready <- e
	return gnet.None
}

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
