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
		v, size := iv.fill(bufs)
		if len(v) == 0 {
			return 0, nil
		}
		n, _, errno := syscall3(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&v[0])), uintptr(len(v)), size)
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
// reusable array, and counts their bytes.
func (iv *iovecs) fill(bufs [][]byte) (v []unix.Iovec, size int) {
	v = iv.v[:0]
	for _, b := range bufs {
		if len(b) > 0 {
			var e unix.Iovec
			e.Base = &b[0]
			e.SetLen(len(b))
			v = append(v, e)
			size += len(b)
		}
	}
	iv.v = v
	return v, size
}

// rawWriteMax is the largest write made without telling the scheduler. A
// write to a non-blocking socket never waits; what it costs is the copy into
// the socket buffer, a few microseconds for this much. The scheduler's
// bookkeeping around a system call (entersyscall, exitsyscall: it lets
// another thread take the processor if the call blocks) costs a measurable
// share of a small echo, so small writes go without it. Larger ones keep it,
// so that a long copy does not hold the processor from other goroutines.
const rawWriteMax = 16 << 10

// syscall3 makes a write-family system call of size bytes: raw when small.
func syscall3(trap, a1, a2, a3 uintptr, size int) (uintptr, uintptr, unix.Errno) {
	if size <= rawWriteMax {
		return unix.RawSyscall(trap, a1, a2, a3)
	}
	return unix.Syscall(trap, a1, a2, a3)
}

// write is write(2) on the non-blocking fd, through syscall3.
func write(fd int, b []byte) (int, error) {
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	}
	n, _, errno := syscall3(unix.SYS_WRITE, uintptr(fd), uintptr(p), uintptr(len(b)), len(b))
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}
