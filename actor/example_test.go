package actor_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/actor"
	"github.com/overlapio/overlap/transport"
	"github.com/overlapio/overlap/wsabuf"
)

// An echo server in a handful of lines: every connection is an actor, and
// each received buffer goes back with an overlapped send that releases it.
func Example() {
	sys := actor.NewSystem()
	defer sys.Stop()
	eng, _ := transport.NewEngine(sys, transport.Config{Loops: 1})
	defer eng.Stop(context.Background())

	echo := protoactor.PropsFromFunc(func(ctx protoactor.Context) {
		if m, ok := ctx.Message().(*actor.Received); ok {
			_ = m.Socket.Send(&actor.Send{Buffers: wsabuf.Buffers{m.Data.Bytes()}, Hold: m.Data})
		}
	})
	ln, err := eng.Listen("tcp", "127.0.0.1:0", echo)
	if err != nil {
		fmt.Println(err)
		return
	}

	c, _ := net.Dial("tcp", ln.Addr().String())
	defer c.Close()
	c.Write([]byte("hello, overlap"))
	reply := make([]byte, 14)
	io.ReadFull(c, reply)
	fmt.Println(string(reply))
	// Output: hello, overlap
}

// The overlapped pattern of the WSASend sample: submit, wait on the
// Overlapped, read its result.
func ExampleOverlapped() {
	sys := actor.NewSystem()
	defer sys.Stop()
	eng, _ := transport.NewEngine(sys, transport.Config{Loops: 1})
	defer eng.Stop(context.Background())

	socks := make(chan *actor.Socket, 1)
	ln, _ := eng.Listen("tcp", "127.0.0.1:0", protoactor.PropsFromFunc(func(ctx protoactor.Context) {
		if m, ok := ctx.Message().(*actor.Connected); ok {
			socks <- m.Socket
		}
	}))
	client, _ := net.Dial("tcp", ln.Addr().String())
	defer client.Close()
	sock := <-socks

	var ov actor.Overlapped
	data := make([]byte, 4096)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := 0; i < 3; i++ {
		if err := sock.Send(&actor.Send{Buffers: wsabuf.Buffers{data}, Overlapped: &ov}); err != actor.ErrIOPending {
			fmt.Println("WSASend failed:", err)
			return
		}
		n, err := ov.Wait(ctx)
		if err != nil {
			fmt.Println("send failed:", err)
			return
		}
		fmt.Printf("Wrote %d bytes\n", n)
	}
	// Output:
	// Wrote 4096 bytes
	// Wrote 4096 bytes
	// Wrote 4096 bytes
}

// A sender actor on the System's Dispatcher: it sends three lines to a
// socket, re-using one Send message, each time the previous send completes.
func ExampleSystem_Dispatcher() {
	sys := actor.NewSystem()
	defer sys.Stop()
	eng, _ := transport.NewEngine(sys, transport.Config{Loops: 1})
	defer eng.Stop(context.Background())

	peers := make(chan net.Conn, 1)
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	defer l.Close()
	go func() { c, _ := l.Accept(); peers <- c }()
	sock, _ := eng.Dial(context.Background(), "tcp", l.Addr().String(), protoactor.PropsFromFunc(func(protoactor.Context) {}))
	peer := <-peers
	defer peer.Close()

	lines := []string{"one\n", "two\n", "three\n"}
	var m actor.Send // the socket's from each send until its completion
	next := 0
	sendNext := func(ctx protoactor.Context) {
		m = actor.Send{Buffers: wsabuf.Buffers{[]byte(lines[next])}}
		next++
		ctx.Request(sock.PID(), &m) // the Completion comes back to this actor
	}
	sys.Actors.Root.Spawn(protoactor.PropsFromFunc(func(ctx protoactor.Context) {
		switch c := ctx.Message().(type) {
		case *protoactor.Started:
			sendNext(ctx)
		case *actor.Completion:
			if c.Err == nil && next < len(lines) {
				sendNext(ctx)
			}
		}
	}, protoactor.WithDispatcher(sys.Dispatcher())))

	got := make([]byte, len("one\ntwo\nthree\n"))
	peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	io.ReadFull(peer, got)
	fmt.Print(string(got))
	// Output:
	// one
	// two
	// three
}
