package main

import (
	"fmt"
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
// (line.go) and turns them into the hub's messages. Its fields are its own (actors
// run one message at a time).
type client struct {
	hub    *protoactor.PID
	sock   *actor.Socket
	nick   string
	reader lineReader
}

func newClient(hub *protoactor.PID) *client {
	return &client{hub: hub, reader: lineReader{max: maxLine}}
}

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

// lines acts on the complete lines in data (and what was left before),
// and disconnects a client whose line passes maxLine.
func (c *client) lines(ctx protoactor.Context, data *wsabuf.Buf) {
	defer data.Release()
	if !c.reader.feed(data.Bytes(), func(line string) { c.command(ctx, parseLine(line)) }) {
		_ = c.sock.Abort()
	}
}

// command acts on one line.
func (c *client) command(ctx protoactor.Context, cmd command) {
	switch cmd.verb {
	case verbNick:
		c.nick = cmd.arg
	case verbJoin:
		ctx.Send(c.hub, &join{sock: c.sock, room: cmd.arg})
	case verbQuit:
		_ = c.sock.Close()
	case verbSay:
		ctx.Send(c.hub, &say{sock: c.sock, text: c.nick + ": " + cmd.arg + "\n"})
	}
}
