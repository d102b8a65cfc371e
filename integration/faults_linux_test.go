package integration

import (
	"syscall"
	"unsafe"
)

// setFileSizeLimit sets the soft RLIMIT_FSIZE of the running process pid (prlimit(2)),
// keeping its hard limit: soft 0 means unlimited again. Lowering a soft limit, and raising
// it up to the hard limit, needs no privilege. A file the process writes cannot grow past
// the limit: the write fails with EFBIG and the process gets SIGXFSZ, which the Go runtime
// ignores unless the program asked for it (runtime/sigtab_linux_generic.go: _SigNotify).
func setFileSizeLimit(pid int, soft uint64) error {
	var old syscall.Rlimit
	if _, _, e := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(pid), syscall.RLIMIT_FSIZE, 0,
		uintptr(unsafe.Pointer(&old)), 0, 0); e != 0 {
		return e
	}
	lim := syscall.Rlimit{Cur: soft, Max: old.Max}
	if soft == 0 {
		lim.Cur = old.Max
	}
	if _, _, e := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(pid), syscall.RLIMIT_FSIZE,
		uintptr(unsafe.Pointer(&lim)), 0, 0, 0); e != 0 {
		return e
	}
	return nil
}

const fileSizeLimitSupported = true
