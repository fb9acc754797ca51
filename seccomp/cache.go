package seccomp

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"sandbox/internal/atomicfile"

	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// programFormat changes whenever this package would compile the same
// profile to a different program (the stub, the conversion, the
// compacting), so that programs cached before are not used.
const programFormat = 2

// CompileCached is Compile, keeping programs in dir: compiling docker's
// default profile takes libseccomp some 20 ms, reading it back well under
// one. A program is found by the digest of its conditioned profile, the
// libseccomp version and the program format; it is written atomically
// (dir is created 0700 if missing) with its own sha256 after it, and
// checked when read back. A cached file that fails the check is compiled
// and written again.
func CompileCached(o Options, dir string) (*Program, error) {
	c, err := condition(o)
	if err != nil || c == nil {
		return nil, err
	}
	path := filepath.Join(dir, cacheName(c.digest))
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("seccomp program cache: %w", err)
	}
	if filter, ok := unseal(data); ok {
		return &Program{Name: c.name, Digest: c.digest, Filter: filter}, nil
	}
	p, err := c.compile()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("seccomp program cache: %w", err)
	}
	if err := atomicfile.Write(path, seal(p.Filter), 0o600); err != nil {
		return nil, fmt.Errorf("seccomp program cache: %w", err)
	}
	return p, nil
}

// cacheName is the file name of a program in the cache.
func cacheName(digest string) string {
	major, minor, micro := libseccomp.GetLibraryVersion()
	return fmt.Sprintf("%s-libseccomp%d.%d.%d-%d.bpf",
		strings.TrimPrefix(digest, "sha256:"), major, minor, micro, programFormat)
}

// seal appends the program's sha256 to it, as the cache stores it.
func seal(filter []byte) []byte {
	sum := sha256.Sum256(filter)
	return append(append(make([]byte, 0, len(filter)+len(sum)), filter...), sum[:]...)
}

// unseal returns the program of a cached file, if the file is whole: its
// sum matches and the program has a program's shape.
func unseal(data []byte) ([]byte, bool) {
	if len(data) < sha256.Size {
		return nil, false
	}
	filter, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	if want := sha256.Sum256(filter); !bytes.Equal(sum, want[:]) {
		return nil, false
	}
	return filter, checkProgram(filter) == nil
}

// checkProgram checks that filter has the shape of a program: whole
// instructions, not more than the kernel takes, ending in a return.
func checkProgram(filter []byte) error {
	n := len(filter) / instructionSize
	switch {
	case len(filter) == 0:
		return errors.New("empty program")
	case len(filter)%instructionSize != 0:
		return fmt.Errorf("program of %d bytes: not whole instructions", len(filter))
	case n > maxInstructions:
		return fmt.Errorf("program of %d instructions: the kernel takes at most %d", n, maxInstructions)
	}
	last := binary.NativeEndian.Uint16(filter[len(filter)-instructionSize:])
	if last&0x07 != unix.BPF_RET {
		return fmt.Errorf("program ends in instruction %#x, not a return", last)
	}
	return nil
}
