package transport

import (
	"bytes"
	"fmt"
	"testing"
)

// Clause 1: sends on a connected stream socket, over TCP v4 and v6 and Unix.
func TestEchoOverEveryStreamNetwork(t *testing.T) {
	for _, tc := range []struct{ network, addr string }{
		{"tcp", "127.0.0.1:0"},
		{"tcp6", "[::1]:0"},
		{"unix", t.TempDir() + "/echo.sock"},
	} {
		t.Run(tc.network, func(t *testing.T) {
			_, e := startEngine(t, Config{})
			l, err := e.Listen(tc.network, tc.addr, echoProps())
			if err != nil {
				t.Fatal(err)
			}
			c := dialPeer(t, l)
			for i := 0; i < 100; i++ {
				msg := []byte(fmt.Sprintf("message %d over %s", i, tc.network))
				if _, err := c.Write(msg); err != nil {
					t.Fatal(err)
				}
				if got := readN(t, c, len(msg)); !bytes.Equal(got, msg) {
					t.Fatalf("echo %q, want %q", got, msg)
				}
			}
		})
	}
}
