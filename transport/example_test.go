package transport_test

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

// Dial a connection as a socket actor and send a gather of two buffers to a
// plain net.Listener, waiting on the completion message.
func ExampleEngine_Dial() {
	sys := actor.NewSystem()
	defer sys.Stop()
	eng, _ := transport.NewEngine(sys, transport.Config{Loops: 1})
	defer eng.Stop(context.Background())

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		b := make([]byte, 11)
		io.ReadFull(c, b)
		got <- string(b)
	}()

	completions := make(chan *actor.Completion, 1)
	handler := protoactor.PropsFromFunc(func(ctx protoactor.Context) {
		switch m := ctx.Message().(type) {
		case *actor.Connected:
			// Ask for the completion as a message to this handler.
			m.Socket.Send(&actor.Send{Buffers: wsabuf.Buffers{[]byte("hello "), []byte("world")}, ReplyTo: ctx.Self()})
		case *actor.Completion:
			completions <- m
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := eng.Dial(ctx, "tcp", ln.Addr().String(), handler); err != nil {
		fmt.Println(err)
		return
	}
	c := <-completions
	fmt.Println(c.Bytes, c.Err, <-got)
	// Output: 11 <nil> hello world
}
