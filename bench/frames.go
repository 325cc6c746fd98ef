package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
)

// A frame is the unit the push families' servers send and their client
// checks: a stream id, a sequence number and an aux word (a send time, or
// 0), 8 bytes each, little-endian, then a body that depends only on the id
// and the frame's size. The client knows every body, so a frame torn by
// another frame's bytes, or one from the wrong stream, fails the run; the
// sequence numbers catch loss and reordering within a stream.
const frameHeader = 24

// newFrame returns a frame of size bytes for stream id, sequence 0.
func newFrame(id, size int) []byte {
	f := make([]byte, size)
	binary.LittleEndian.PutUint64(f, uint64(id))
	fillPattern(f[frameHeader:], id, size)
	return f
}

// stamp sets f's sequence number and aux word.
func stamp(f []byte, seq uint64, aux int64) {
	binary.LittleEndian.PutUint64(f[8:], seq)
	binary.LittleEndian.PutUint64(f[16:], uint64(aux))
}

// frameChecker checks frames of one size from streams 0 to n-1.
type frameChecker struct {
	bodies [][]byte // the body of each stream's frames
}

func newFrameChecker(streams, size int) *frameChecker {
	fc := &frameChecker{bodies: make([][]byte, streams)}
	for id := range fc.bodies {
		fc.bodies[id] = newFrame(id, size)[frameHeader:]
	}
	return fc
}

// check returns f's stream, sequence number and aux word, or an error if
// f is not a whole frame of a known stream.
func (fc *frameChecker) check(f []byte) (id int, seq uint64, aux int64, err error) {
	u := binary.LittleEndian.Uint64(f)
	if u >= uint64(len(fc.bodies)) || !bytes.Equal(f[frameHeader:], fc.bodies[u]) {
		return 0, 0, 0, fmt.Errorf("a torn or corrupt frame (stream word %#x)", u)
	}
	return int(u), binary.LittleEndian.Uint64(f[8:]), int64(binary.LittleEndian.Uint64(f[16:])), nil
}

// readFrames reads c until it fails, cutting what arrives into frames of
// size bytes and handing each read's whole frames to each, which returns
// an error to stop.
func readFrames(c net.Conn, size int, each func(frames []byte) error) error {
	buf := make([]byte, max(64<<10/size, 4)*size)
	have := 0
	for {
		n, err := c.Read(buf[have:])
		have += n
		if whole := have - have%size; whole > 0 {
			if err := each(buf[:whole]); err != nil {
				return err
			}
			have = copy(buf, buf[whole:have])
		}
		if err == io.EOF {
			return fmt.Errorf("the server closed the connection")
		}
		if err != nil {
			return err
		}
	}
}
