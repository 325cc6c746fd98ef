package wsabuf

import "testing"

// The pool's cost per received message: Get, fill, Release.
func BenchmarkPoolGetRelease(b *testing.B) {
	p := Default()
	src := make([]byte, 512)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf, _ := p.Get(len(src))
		copy(buf.Bytes(), src)
		buf.Release()
	}
}
