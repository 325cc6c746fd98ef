package actor

import (
	"bytes"
	"testing"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/wsabuf"
)

// Options.LendReceived, clause 7 with lent bytes: a SendFrom of the lent
// Received.Data that is only partly written when the handler returns keeps
// its bytes after the lender reuses its buffer, whether the send holds Data
// or the handler keeps Data itself.
func TestLentBytesInQueuedSendFrom(t *testing.T) {
	for _, hold := range []bool{true, false} {
		name := map[bool]string{true: "Hold", false: "kept"}[hold]
		t.Run(name, func(t *testing.T) {
			var kept *wsabuf.Buf
			h := newHarness(t, ConnInfo{}, Options{}, func(h *harness, ctx protoactor.Context) {
				m, ok := ctx.Message().(*Received)
				if !ok {
					return
				}
				s := &Send{Buffers: wsabuf.Buffers{m.Data.Bytes()}}
				if hold {
					s.Hold = m.Data
				} else {
					kept = m.Data
				}
				_, _ = m.Socket.SendFrom(ctx, s)
			})
			want := []byte("lent by the event loop")
			data := bytes.Clone(want)
			h.fc.setBudget(3) // the write is partial: the rest is queued
			var lent wsabuf.Buf
			h.fc.do(t, func() {
				wsabuf.Default().Lend(&lent, data)
				h.ep.Received(&lent, nil)
				if lent.Reclaim() {
					t.Error("a Buf held by a pending send or its handler is not free")
				}
				copy(data, bytes.Repeat([]byte{'#'}, len(data))) // the loop reads again
			})
			h.fc.waitAwait(t)
			h.fc.setBudget(-1)
			h.fc.writable()
			h.fc.sync(t)
			if got := h.fc.wireBytes(); !bytes.Equal(got, want) {
				t.Fatalf("wire %q, want %q", got, want)
			}
			if kept != nil {
				kept.Release()
			}
		})
	}
}
