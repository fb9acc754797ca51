package nsenter

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// writeAhead writes what the socket takes without blocking and returns
// the rest, which, written after, completes the request in order; the
// socket blocks again afterwards.
func TestWriteAhead(t *testing.T) {
	for name, size := range map[string]int{"fits": 3000, "more than the buffer": 4 << 20} {
		t.Run(name, func(t *testing.T) {
			pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			ours, theirs := os.NewFile(uintptr(pair[0]), "ours"), os.NewFile(uintptr(pair[1]), "theirs")
			defer ours.Close()
			defer theirs.Close()
			data := make([]byte, size)
			for i := range data {
				data[i] = byte(i * 7)
			}
			rest, err := writeAhead(pair[0], data)
			if err != nil {
				t.Fatal(err)
			}
			if fits := size <= 3000; fits != (len(rest) == 0) || len(rest) == size {
				t.Fatalf("%d of %d bytes left to write", len(rest), size)
			}
			if flags, err := unix.FcntlInt(uintptr(pair[0]), unix.F_GETFL, 0); err != nil || flags&unix.O_NONBLOCK != 0 {
				t.Fatalf("socket flags %#x (%v): still non-blocking", flags, err)
			}
			got := make(chan []byte, 1)
			go func() {
				b, _ := io.ReadAll(io.LimitReader(theirs, int64(size)))
				got <- b
			}()
			if _, err := ours.Write(rest); err != nil {
				t.Fatal(err)
			}
			if b := <-got; !bytes.Equal(b, data) {
				t.Fatalf("read %d bytes, not the %d written, in order", len(b), size)
			}
		})
	}
}

// A helper's copy goes to one taker; one that cannot be made says why,
// and closing it is harmless either way.
func TestHelperTaken(t *testing.T) {
	h := PrepareHelper()
	bin, err := h.wait()
	if err == nil {
		// Found beside this test binary: a copy, executable.
		if st, serr := bin.Stat(); serr != nil || st.Size() == 0 {
			t.Fatalf("copy %v (%v)", st, serr)
		}
		bin.Close()
	} else if errors.Is(err, errHelperTaken) {
		t.Fatalf("first wait: %v", err)
	}
	if _, err := h.wait(); !errors.Is(err, errHelperTaken) {
		t.Fatalf("second wait: %v, want errHelperTaken", err)
	}
	h.Close()
	PrepareHelper().Close()
}
