package atomicfile

import (
	"io/fs"

	"golang.org/x/sys/unix"
)

// ReadFile reads a whole small file, such as one Write replaces (which
// never changes once in place) or one of /proc, in the fewest system
// calls: open, fstat, one read of the size it gives and close. os.ReadFile
// takes about ten on Linux (it sets the descriptor non-blocking and back
// to try the poller, and reads again to see the end), which counts where
// a command reads three files per container (ps). A file whose stat size
// is 0 (as /proc's are) or that grew meanwhile is read until it ends.
// Errors are *fs.PathError, as os.ReadFile's.
func ReadFile(path string) ([]byte, error) {
	return ReadFileTo(nil, path)
}

// ReadFileTo is ReadFile into buf's array, when the file fits: a caller
// that reads many files, one after the other, reuses one buffer instead
// of making the heap grow by each file's size.
func ReadFileTo(buf []byte, path string) ([]byte, error) {
	fd, err := retry(func() (int, error) { return unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0) })
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	// One more byte than the size: a read that fills the buffer may not
	// be the end.
	size := 512
	if st.Size > 0 && st.Size < 1<<30 {
		size = int(st.Size) + 1
	}
	data := buf[:0]
	if cap(data) < size {
		data = make([]byte, 0, size)
	}
	for {
		n, err := retry(func() (int, error) { return unix.Read(fd, data[len(data):cap(data)]) })
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		data = data[:len(data)+n]
		if n == 0 || (st.Size > 0 && len(data) < cap(data) && len(data) >= int(st.Size)) {
			return data, nil
		}
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
	}
}

// retry calls f again while it fails with EINTR.
func retry(f func() (int, error)) (int, error) {
	for {
		n, err := f()
		if err != unix.EINTR {
			return n, err
		}
	}
}
