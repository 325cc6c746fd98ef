package main

import (
	"errors"
	"sync/atomic"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/actor"
	"github.com/overlapio/overlap/wsabuf"
)

// The hub's messages, from the clients' actors.
type (
	join struct {
		sock *actor.Socket
		room string
	} // move sock to room
	leave struct{ sock *actor.Socket } // sock is gone
	say   struct {
		sock *actor.Socket
		text string
	} // one encoded line for sock's room
)

// hub is the actor that owns the rooms. Its maps are its own.
type hub struct {
	rooms   map[string]map[*actor.Socket]struct{}
	roomOf  map[*actor.Socket]string
	pool    *wsabuf.Pool
	dropped *atomic.Int64 // clients disconnected for not reading (Server.Dropped)
}

func newHub(dropped *atomic.Int64) *hub {
	return &hub{rooms: map[string]map[*actor.Socket]struct{}{}, roomOf: map[*actor.Socket]string{},
		pool: wsabuf.Default(), dropped: dropped}
}

// Receive handles the clients' messages.
func (h *hub) Receive(ctx protoactor.Context) {
	switch m := ctx.Message().(type) {
	case *join:
		h.remove(m.sock)
		members := h.rooms[m.room]
		if members == nil {
			members = map[*actor.Socket]struct{}{}
			h.rooms[m.room] = members
		}
		members[m.sock] = struct{}{}
		h.roomOf[m.sock] = m.room
		h.send(m.sock, "* joined "+m.room+"\n") // from now on it hears the room
	case *leave:
		h.remove(m.sock)
	case *say:
		h.broadcast(m.sock, m.text)
	}
}

// encode copies text into a pooled buffer holding one reference, or
// returns nil when the pool has no room (the text is then dropped).
func (h *hub) encode(text string) *wsabuf.Buf {
	buf, err := h.pool.Get(len(text))
	if err != nil {
		return nil
	}
	copy(buf.Bytes(), text)
	return buf
}

// send sends text to one socket.
func (h *hub) send(sock *actor.Socket, text string) {
	if buf := h.encode(text); buf != nil {
		_ = sock.Send(&actor.Send{Buffers: wsabuf.Buffers{buf.Bytes()}, Hold: buf}) // a refused send releases buf
	}
}

// remove takes sock out of its room.
func (h *hub) remove(sock *actor.Socket) {
	room, ok := h.roomOf[sock]
	if !ok {
		return
	}
	delete(h.roomOf, sock)
	delete(h.rooms[room], sock)
	if len(h.rooms[room]) == 0 {
		delete(h.rooms, room)
	}
}

// broadcast encodes text once into a pooled buffer and sends it to every
// other member of from's room; each send holds one reference, and the
// buffer goes back to the pool after the last completion. A member whose
// queue is full (it stopped reading) is disconnected, not waited for.
func (h *hub) broadcast(from *actor.Socket, text string) {
	room, ok := h.roomOf[from]
	if !ok {
		return
	}
	members := h.rooms[room]
	if len(members) < 2 {
		return
	}
	buf := h.encode(text)
	if buf == nil {
		return // no memory for the line: it is dropped
	}
	buf.Retain(len(members) - 2) // one reference per other member
	var slow []*actor.Socket
	for sock := range members {
		if sock == from {
			continue
		}
		err := sock.Send(&actor.Send{Buffers: wsabuf.Buffers{buf.Bytes()}, Hold: buf})
		if errors.Is(err, actor.ErrWouldBlock) {
			slow = append(slow, sock) // a refused send released its reference
		}
	}
	for _, sock := range slow {
		h.remove(sock)
		_ = sock.Abort()
		h.dropped.Add(1)
	}
}
