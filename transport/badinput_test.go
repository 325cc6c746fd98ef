package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/actor"
	"github.com/overlapio/overlap/wsabuf"
)

// misuse is one row of the bad-input table: a send a caller should not make
// (or may make, with a documented outcome), on a real socket.
type misuse struct {
	name string
	udp  bool // on a dialed UDP socket instead of a TCP one
	// before puts the socket in the state the row needs and returns what
	// the peer must read before anything the misuse could send. It may be nil.
	before func(t *testing.T, f *badFixture) []byte
	// send is the misuse itself: it returns the Send it submits (nil when
	// it submits none through fixture.sock.Send) and the error it got.
	send func(t *testing.T, f *badFixture, m *actor.Send) error
	want error // the documented error; nil: completes with 0 bytes
	// closes: after the misuse the socket can send nothing more, so the
	// peer reads to EOF (streams) instead of reading up to a marker.
	closes bool
}

// badFixture is a socket with a plain peer, fresh for each row.
type badFixture struct {
	sys  *actor.System
	eng  *Engine
	sock *actor.Socket
	peer net.Conn       // TCP peer (stream rows)
	pc   net.PacketConn // UDP peer (datagram rows)

	pendingOv *actor.Overlapped // the send a row's before left pending
}

// countedHold is a Releaser that counts its releases, so a row can check
// that the refused send released its Hold exactly once.
type countedHold struct{ n int }

func (h *countedHold) Release() { h.n++ }

// Issue 5, bad input: every misuse a caller can make gets its documented
// error from Send, exactly one completion carrying that same error, its
// Hold released exactly once, and nothing on the wire — the peer's next
// bytes are a marker sent after the misuse (or EOF, once the socket is
// closed), and a send completes in order after everything before it.
func TestBadInput(t *testing.T) {
	marker := []byte("END")
	plain := func(t *testing.T, f *badFixture, m *actor.Send) error { return f.sock.Send(m) }
	rows := []misuse{
		{name: "nil buffer array", send: func(t *testing.T, f *badFixture, m *actor.Send) error {
			m.Buffers = nil
			return f.sock.Send(m)
		}},
		{name: "empty buffer array", send: func(t *testing.T, f *badFixture, m *actor.Send) error {
			m.Buffers = wsabuf.Buffers{}
			return f.sock.Send(m)
		}},
		{name: "only empty segments", send: func(t *testing.T, f *badFixture, m *actor.Send) error {
			m.Buffers = wsabuf.Buffers{nil, {}, nil}
			return f.sock.Send(m)
		}},
		{name: "released pooled buffer", want: actor.ErrFault, send: func(t *testing.T, f *badFixture, m *actor.Send) error {
			buf, err := wsabuf.Default().Get(16)
			if err != nil {
				t.Fatal(err)
			}
			copy(buf.Bytes(), "must not be sent")
			segs := wsabuf.Buffers{buf.Bytes()}
			buf.Release()
			m.Buffers, m.Hold = segs, buf
			return f.sock.Send(m)
		}},
		{name: "reused pending Overlapped", want: actor.ErrInvalid,
			before: func(t *testing.T, f *badFixture) []byte {
				// One send far larger than the socket buffers, with the peer
				// not reading yet: it stays pending.
				big := bytes.Repeat([]byte("p"), 8<<20)
				f.pendingOv = &actor.Overlapped{}
				if err := f.sock.Send(&actor.Send{Buffers: wsabuf.Buffers{big}, Overlapped: f.pendingOv}); err != actor.ErrIOPending {
					t.Fatalf("the large send: %v", err)
				}
				if !f.pendingOv.Pending() {
					t.Fatal("the large send completed before the peer read: the row cannot test reuse")
				}
				return big
			},
			send: func(t *testing.T, f *badFixture, m *actor.Send) error {
				ov := f.pendingOv
				err := f.sock.Send(&actor.Send{Buffers: m.Buffers, Hold: m.Hold, Overlapped: ov, ReplyTo: m.ReplyTo})
				// The refused send's completion is the reply; the Overlapped
				// still belongs to the large send. Stand in a fresh one for
				// the row's checks.
				m.Overlapped = nil
				return err
			}},
		{name: "unknown flags", want: actor.ErrOpNotSupported, send: func(t *testing.T, f *badFixture, m *actor.Send) error {
			m.Flags = 1 << 30
			return f.sock.Send(m)
		}},
		{name: "MSG_PARTIAL on a stream", want: actor.ErrOpNotSupported, send: func(t *testing.T, f *badFixture, m *actor.Send) error {
			m.Flags = actor.MsgPartial
			return f.sock.Send(m)
		}},
		{name: "MSG_OOB on UDP", udp: true, want: actor.ErrOpNotSupported, send: func(t *testing.T, f *badFixture, m *actor.Send) error {
			m.Flags = actor.MsgOOB
			return f.sock.Send(m)
		}},
		{name: "oversized datagram", udp: true, want: actor.ErrMsgSize, send: func(t *testing.T, f *badFixture, m *actor.Send) error {
			max := f.sock.MaxMsgSize()
			if max <= 0 {
				t.Fatalf("MaxMsgSize %d on a UDP socket", max)
			}
			m.Buffers = wsabuf.Buffers{make([]byte, max/2), make([]byte, max-max/2+1)} // one byte over, in two pieces
			return f.sock.Send(m)
		}},
		{name: "after Shutdown", want: actor.ErrShutdown, closes: true,
			before: func(t *testing.T, f *badFixture) []byte {
				if err := f.sock.Shutdown(); err != nil {
					t.Fatal(err)
				}
				return nil
			}, send: plain},
		{name: "after graceful close", want: actor.ErrNotSock, closes: true,
			before: func(t *testing.T, f *badFixture) []byte {
				if err := f.sock.Close(); err != nil {
					t.Fatal(err)
				}
				return nil
			}, send: plain},
		{name: "after abortive close", want: actor.ErrNotSock, closes: true,
			before: func(t *testing.T, f *badFixture) []byte {
				if err := f.sock.Abort(); err != nil {
					t.Fatal(err)
				}
				return nil
			}, send: plain},
		{name: "after the system stopped", want: actor.ErrNotInitialised, closes: true,
			before: func(t *testing.T, f *badFixture) []byte {
				stopCtx, cancel := context.WithTimeout(context.Background(), testDeadline)
				defer cancel()
				if err := f.eng.Stop(stopCtx); err != nil {
					t.Fatal(err)
				}
				f.sys.Stop()
				return nil
			},
			send: func(t *testing.T, f *badFixture, m *actor.Send) error {
				m.ReplyTo = nil // no actor receives messages once the system has stopped
				return f.sock.Send(m)
			}},
		{name: "nil Send", want: actor.ErrInvalid, send: func(t *testing.T, f *badFixture, m *actor.Send) error {
			*m = actor.Send{} // no completion is possible: there is no send
			return f.sock.Send(nil)
		}},
		{name: "on a nil Socket", want: actor.ErrNotSock, send: func(t *testing.T, f *badFixture, m *actor.Send) error {
			m.ReplyTo = nil // without a socket there is no system to send a Completion through
			var none *actor.Socket
			return none.Send(m)
		}},
		{name: "on a zero Socket (before any engine made it)", want: actor.ErrNotInitialised, send: func(t *testing.T, f *badFixture, m *actor.Send) error {
			m.ReplyTo = nil
			var zero actor.Socket
			return zero.Send(m)
		}},
		{name: "SendFrom and SendBlocking on a nil Socket", want: actor.ErrNotSock, send: func(t *testing.T, f *badFixture, m *actor.Send) error {
			m.ReplyTo = nil
			var none *actor.Socket
			if _, err := none.SendBlocking(context.Background(), m.Buffers, 0); !errors.Is(err, actor.ErrNotSock) {
				t.Errorf("SendBlocking on a nil Socket: %v", err)
			}
			_, err := none.SendFrom(nil, m)
			return err
		}},
		{name: "to a PID that is not a socket", want: actor.ErrNotSock, send: func(t *testing.T, f *badFixture, m *actor.Send) error {
			other := f.sys.Actors.Root.Spawn(protoactor.PropsFromFunc(func(protoactor.Context) {}))
			defer f.sys.Actors.Root.Stop(other)
			return f.sys.Send(other, m)
		}},
		{name: "to a socket's PID after it closed", want: actor.ErrNotSock, closes: true,
			before: func(t *testing.T, f *badFixture) []byte {
				if err := f.sock.Close(); err != nil {
					t.Fatal(err)
				}
				return nil
			},
			send: func(t *testing.T, f *badFixture, m *actor.Send) error { return f.sys.Send(f.sock.PID(), m) }},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			f := newBadFixture(t, row.udp)
			var first []byte
			if row.before != nil {
				first = row.before(t, f)
			}
			hold := &countedHold{}
			ov := &actor.Overlapped{}
			replies := make(chan *actor.Completion, 4)
			collector := f.sys.Actors.Root.Spawn(protoactor.PropsFromFunc(func(ctx protoactor.Context) {
				if c, ok := ctx.Message().(*actor.Completion); ok {
					replies <- c
				}
			}))
			m := &actor.Send{Buffers: wsabuf.Buffers{[]byte("must"), []byte(" not be sent")}, Hold: hold, Overlapped: ov, ReplyTo: collector}
			err := row.send(t, f, m)

			// Send's answer.
			switch {
			case row.want == nil && err != actor.ErrIOPending:
				t.Fatalf("Send: %v, want ErrIOPending (completes with 0 bytes)", err)
			case row.want != nil && !errors.Is(err, row.want):
				t.Fatalf("Send: %v, want %v", err, row.want)
			}
			// Exactly one completion, with the same outcome, both ways.
			if m.Overlapped == ov {
				n, oerr := waitResult(t, ov)
				checkOutcome(t, "Overlapped", n, oerr, row.want)
			}
			if m.ReplyTo != nil {
				select {
				case c := <-replies:
					checkOutcome(t, "Completion", c.Bytes, c.Err, row.want)
				case <-time.After(testDeadline):
					t.Fatal("no Completion message")
				}
			}
			if m.Hold == hold && hold.n != 1 || m.Hold == nil && hold.n != 0 {
				t.Errorf("the Hold was released %d times, want 1", hold.n)
			}

			// Nothing on the wire: the peer's next bytes are the marker (or EOF).
			got := f.read(t, row, first, marker)
			want := append(append([]byte(nil), first...), marker...)
			if row.closes {
				want = first
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("the peer read %d bytes ending %q, want %d ending %q: the misuse put bytes on the wire",
					len(got), tail(got), len(want), tail(want))
			}
			select {
			case c := <-replies:
				t.Fatalf("a second completion: %+v", c)
			default:
			}
		})
	}
}

func newBadFixture(t *testing.T, udp bool) *badFixture {
	t.Helper()
	f := &badFixture{}
	if !udp {
		// Room for the marker behind a row's 8 MiB pending send.
		f.sys, f.eng, f.sock, f.peer = connectedPair(t, "tcp", "127.0.0.1:0", Config{Socket: actor.Options{MaxPendingBytes: 64 << 20}})
		return f
	}
	f.sys, f.eng = startEngine(t, Config{})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	_ = pc.SetDeadline(time.Now().Add(testDeadline))
	f.pc = pc
	f.sock, err = f.eng.Dial(context.Background(), "udp", pc.LocalAddr().String(), protoactor.PropsFromFunc(func(protoactor.Context) {}))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// read returns what the peer reads: on a stream, up to and including the
// marker sent now (or to EOF when the row closed the socket); on UDP, the
// first datagram, which must be the marker.
func (f *badFixture) read(t *testing.T, row misuse, first, marker []byte) []byte {
	t.Helper()
	if !row.closes {
		if err := f.sock.Send(&actor.Send{Buffers: wsabuf.Buffers{marker}}); err != actor.ErrIOPending {
			t.Fatalf("the marker's send: %v", err)
		}
	}
	if f.pc != nil {
		b := make([]byte, 64<<10)
		n, _, err := f.pc.ReadFrom(b)
		if err != nil {
			t.Fatalf("the peer's read: %v", err)
		}
		return b[:n]
	}
	if row.closes {
		b, err := io.ReadAll(f.peer)
		if err != nil && !errors.Is(err, net.ErrClosed) && !isReset(err) {
			t.Fatalf("the peer's read: %v", err)
		}
		return b
	}
	return readN(t, f.peer, len(first)+len(marker))
}

// isReset reports a connection reset, which an abortive close gives the peer.
func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && errors.Is(op.Err, syscall.ECONNRESET)
}

// checkOutcome checks one completion against the row's documented error.
func checkOutcome(t *testing.T, what string, n int, err, want error) {
	t.Helper()
	if n != 0 {
		t.Errorf("%s: %d bytes sent, want 0", what, n)
	}
	if want == nil && err != nil || want != nil && !errors.Is(err, want) {
		t.Errorf("%s: %v, want %v", what, err, want)
	}
}

// waitResult waits for ov's completion.
func waitResult(t *testing.T, ov *actor.Overlapped) (int, error) {
	t.Helper()
	select {
	case <-ov.Done():
	case <-time.After(testDeadline):
		t.Fatal("the Overlapped never completed")
	}
	n, err, _ := ov.Result()
	return n, err
}

// tail is the last bytes of b, for messages.
func tail(b []byte) []byte { return b[max(0, len(b)-16):] }
