package wsabuf_test

import (
	"fmt"

	"github.com/overlapio/overlap/wsabuf"
)

// A writer that took only part of a gather advances past what it wrote
// without copying, then takes the rest in windows of at most MaxIOV segments.
func ExampleBuffers_Consume() {
	bufs := wsabuf.Buffers{[]byte("head:"), []byte("body"), []byte(";")}
	bufs.Consume(7) // the kernel took "head:bo"
	fmt.Printf("%d bytes left: %q\n", bufs.Len(), bufs.Flatten())
	// Output: 3 bytes left: "dy;"
}

// One encoded message broadcast to three sockets: each send holds a reference
// and the bytes go back to the pool after the third completion.
func ExampleBuf_Retain() {
	pool := wsabuf.NewPool(wsabuf.PoolConfig{Track: true})
	msg, _ := pool.Get(5)
	copy(msg.Bytes(), "hello")
	msg.Retain(2) // three holders in all
	for i := 0; i < 3; i++ {
		msg.Release() // each socket's completion
	}
	fmt.Println(msg.Err(), pool.InUse())
	// Output: wsabuf: buffer used after its last release 0
}
