// Package testfile gives tests a file to send from: the file regions of
// actor.Send.File, over a fake connection or a real socket.
package testfile

import (
	"os"
	"path/filepath"
	"testing"
)

// Open writes data to a file in the test's temporary directory and opens it
// for reading; the file is closed when the test ends.
func Open(t testing.TB, data []byte) *os.File {
	t.Helper()
	path := filepath.Join(t.TempDir(), "region")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
