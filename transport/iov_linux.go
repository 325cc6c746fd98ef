package transport

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// iovecs is a reusable iovec array for writev, owned by one event loop so
// that a gather write allocates nothing (x/sys's Writev builds a new array
// per call).
type iovecs struct {
	v []unix.Iovec
}

// writev writes bufs to fd with one writev(2) call. bufs must not be longer
// than wsabuf.MaxIOV.
func (iv *iovecs) writev(fd int, bufs [][]byte) (int, error) {
	for {
		v := iv.fill(bufs)
		if len(v) == 0 {
			return 0, nil
		}
		n, _, errno := unix.Syscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&v[0])), uintptr(len(v)))
		clear(v) // drop the pointers so the loop's array does not pin buffers
		switch errno {
		case 0:
			return int(n), nil
		case unix.EINTR:
			continue // nothing was written: build the iovecs again and retry
		default:
			return 0, errno
		}
	}
}

// fill builds the iovecs of bufs, skipping empty segments, in the loop's
// reusable array.
func (iv *iovecs) fill(bufs [][]byte) []unix.Iovec {
	v := iv.v[:0]
	for _, b := range bufs {
		if len(b) > 0 {
			var e unix.Iovec
			e.Base = &b[0]
			e.SetLen(len(b))
			v = append(v, e)
		}
	}
	iv.v = v
	return v
}
