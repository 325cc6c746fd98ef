package main

import (
	"bytes"
	"fmt"
	"strings"
	"sync/atomic"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/actor"
	"github.com/overlapio/overlap/wsabuf"
)

// guests numbers the default nicknames.
var guests atomic.Int64

// maxLine is the longest line a client may send; a longer one disconnects it.
const maxLine = 4 << 10

// client is one connection's actor: it cuts the received bytes into lines
// and turns them into the hub's messages. Its fields are its own (actors
// run one message at a time).
type client struct {
	hub     *protoactor.PID
	sock    *actor.Socket
	nick    string
	partial []byte // a line not yet ended by '\n'
}

func newClient(hub *protoactor.PID) *client { return &client{hub: hub} }

// Receive handles the socket's messages.
func (c *client) Receive(ctx protoactor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Connected:
		c.sock = m.Socket
		c.nick = fmt.Sprintf("guest%d", guests.Add(1))
		ctx.Send(c.hub, &join{sock: c.sock, room: "lobby"})
	case *actor.Received:
		c.lines(ctx, m.Data)
	case *actor.Closed:
		ctx.Send(c.hub, &leave{sock: c.sock})
	}
}

// lines takes the complete lines out of data (and what was left before).
func (c *client) lines(ctx protoactor.Context, data *wsabuf.Buf) {
	b := data.Bytes()
	defer data.Release()
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			c.partial = append(c.partial, b...)
			if len(c.partial) > maxLine {
				_ = c.sock.Abort()
			}
			return
		}
		line := b[:i]
		if len(c.partial) > 0 {
			line = append(c.partial, line...)
			c.partial = c.partial[:0]
		}
		b = b[i+1:]
		if len(line) > maxLine {
			_ = c.sock.Abort()
			return
		}
		c.command(ctx, strings.TrimRight(string(line), "\r"))
	}
}

// command acts on one line.
func (c *client) command(ctx protoactor.Context, line string) {
	cmd, arg, _ := strings.Cut(line, " ")
	switch cmd {
	case "/nick":
		if arg = strings.TrimSpace(arg); arg != "" {
			c.nick = arg
		}
	case "/join":
		if arg = strings.TrimSpace(arg); arg != "" {
			ctx.Send(c.hub, &join{sock: c.sock, room: arg})
		}
	case "/quit":
		_ = c.sock.Close()
	default:
		if line != "" {
			ctx.Send(c.hub, &say{sock: c.sock, text: c.nick + ": " + line + "\n"})
		}
	}
}
