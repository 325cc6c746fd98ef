// Command overlapped is the Go port of the sample at the end of Microsoft's
// WSASend reference page: a server that accepts one client and sends it
// SEND_COUNT buffers of DATA_BUFSIZE bytes with overlapped sends, waiting on
// each completion and printing "Wrote 4096 bytes" after each. It reads side
// by side with the C++ sample; the comments quote the calls they stand for.
//
//	go run ./examples/overlapped [-addr 127.0.0.1:27015]
//	go run ./examples/overlapped -client [-addr 127.0.0.1:27015]
//
// The server prints "listening on HOST:PORT" when it is ready, then one
// "Wrote 4096 bytes" line per send, closes the connection and exits 0.
// Ctrl-C (SIGINT or SIGTERM) before a client comes also exits 0. The client
// connects, reads all 40,960 bytes, checks them and exits 0.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/actor"
	"github.com/overlapio/overlap/transport"
	"github.com/overlapio/overlap/wsabuf"
)

// The sample's constants, under its names for reading side by side.
const (
	DATA_BUFSIZE = 4096
	SEND_COUNT   = 10
)

// pattern is the buffer the server sends: the C++ sample sends whatever
// its stack array holds; a known pattern lets the client check the bytes.
func pattern() []byte {
	b := make([]byte, DATA_BUFSIZE)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

// Serve is the sample's main: it listens on addr, calls ready with the bound
// address, accepts one client, sends it SEND_COUNT overlapped sends of the
// buffer, writing a line to out after each completion, and closes. It
// returns nil when the sends went out, or when ctx ended before a client
// came.
func Serve(ctx context.Context, addr string, ready func(addr string), out io.Writer) error {
	// WSAStartup: the actor system and the engine that runs the sockets.
	sys := actor.NewSystem()
	defer sys.Stop()
	eng, err := transport.NewEngine(sys, transport.Config{Loops: 1})
	if err != nil {
		return err
	}
	defer func() { _ = eng.Stop(context.Background()) }()

	// socket, bind, listen: one listener whose connections are actors.
	// The first one to arrive is the AcceptSocket; the sample's backlog is
	// 1, so any other is reset.
	accepted := make(chan *actor.Socket, 1)
	ln, err := eng.Listen("tcp", addr, protoactor.PropsFromFunc(func(ctx protoactor.Context) {
		switch m := ctx.Message().(type) {
		case *actor.Connected:
			select {
			case accepted <- m.Socket:
			default:
				_ = m.Socket.Abort()
			}
		case *actor.Received:
			m.Data.Release() // the sample reads nothing from its client
		}
	}))
	if err != nil {
		return fmt.Errorf("listen failed with error: %w", err)
	}
	ready(ln.Addr().String())

	// accept
	var acceptSocket *actor.Socket
	select {
	case acceptSocket = <-accepted:
	case <-ctx.Done():
		return nil // stopped before a client came
	}
	fmt.Fprintln(os.Stderr, "Client Accepted...")

	// SendOverlapped, with its event: an Overlapped is both.
	var sendOverlapped actor.Overlapped
	dataBuf := wsabuf.Buffers{pattern()} // DataBuf.len = DATA_BUFSIZE; DataBuf.buf = buffer

	for i := 0; i < SEND_COUNT; i++ {
		// rc = WSASend(AcceptSocket, &DataBuf, 1, &SendBytes, 0, &SendOverlapped, NULL);
		// Send always queues: WSA_IO_PENDING is its success.
		err := acceptSocket.Send(&actor.Send{Buffers: dataBuf, Overlapped: &sendOverlapped})
		if !errors.Is(err, actor.ErrIOPending) {
			return fmt.Errorf("WSASend failed with error: %w", err)
		}
		// WSAWaitForMultipleEvents(1, &SendOverlapped.hEvent, TRUE, INFINITE, TRUE);
		// WSAGetOverlappedResult(AcceptSocket, &SendOverlapped, &SendBytes, FALSE, &Flags);
		sendBytes, err := sendOverlapped.Wait(context.Background())
		if err != nil {
			return fmt.Errorf("WSASend failed with error: %w", err)
		}
		fmt.Fprintf(out, "Wrote %d bytes\n", sendBytes)
		// WSAResetEvent: the next Send rearms the Overlapped.
	}

	// closesocket(AcceptSocket): a graceful close; the engine's stop waits
	// for it, so every byte reaches the client.
	if err := acceptSocket.Close(); err != nil {
		return err
	}
	stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return eng.Stop(stop)
}

// Client connects to addr, reads the SEND_COUNT buffers and checks them.
func Client(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	want := pattern()
	got := make([]byte, DATA_BUFSIZE)
	for i := 0; i < SEND_COUNT; i++ {
		if _, err := io.ReadFull(c, got); err != nil {
			return fmt.Errorf("buffer %d: %w", i, err)
		}
		for j := range got {
			if got[j] != want[j] {
				return fmt.Errorf("buffer %d, byte %d: got %d, want %d", i, j, got[j], want[j])
			}
		}
	}
	if n, err := c.Read(got[:1]); n != 0 || err != io.EOF {
		return fmt.Errorf("after %d bytes: more data or no close (%d, %v)", SEND_COUNT*DATA_BUFSIZE, n, err)
	}
	return nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:27015", "address to listen on, or to connect to with -client")
	client := flag.Bool("client", false, "run the matching client: read and check the 40,960 bytes")
	flag.Parse()

	if *client {
		if err := Client(*addr); err != nil {
			fmt.Fprintln(os.Stderr, "client:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err := Serve(ctx, *addr, func(a string) { fmt.Printf("listening on %s\n", a) }, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
