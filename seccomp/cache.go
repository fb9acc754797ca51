package seccomp

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"sandbox/internal/atomicfile"

	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// programFormat changes whenever this package would compile the same
// profile to a different program (the stub, the conversion, the
// compacting), or store it differently, so that programs cached before
// are not used.
const programFormat = 3

// CompileCached is Compile, keeping programs in dir: compiling docker's
// default profile takes libseccomp some 20 ms, reading it back well under
// one. A program is found by what it is compiled from (inputKey): the
// profile (for the default, the binary that holds it; for a file, its
// contents), the capabilities, the kernel's release, the
// architecture, the libseccomp version and the program format. So a
// cached program is found without conditioning the profile, which costs
// more than reading it. It is written atomically (dir is created 0700 if
// missing) with the digest of its conditioned profile before it and its
// own sha256 after it, and checked when read back. A cached file that
// fails the check is compiled and written again. Without a key (no
// /proc), every call compiles.
func CompileCached(o Options, dir string) (*Program, error) {
	var profile []byte
	name := o.Profile
	switch name {
	case Unconfined:
		return nil, nil
	case "", Default:
		name = Default
	default:
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("seccomp profile %s: %w", name, err)
		}
		profile = data
	}
	key, ok := inputKey(name, profile, o.Capabilities, kernelRelease())
	if !ok {
		return Compile(o)
	}
	path := filepath.Join(dir, cacheName(key))
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("seccomp program cache: %w", err)
	}
	if digest, filter, ok := unseal(data); ok {
		return &Program{Name: name, Digest: digest, Filter: filter}, nil
	}
	// A file is conditioned from the contents its key was made of.
	var c *conditioned
	if name == Default {
		c, err = condition(o)
	} else {
		c, err = conditionData(name, profile, o.Capabilities)
	}
	if err != nil || c == nil {
		return nil, err
	}
	p, err := c.compile()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("seccomp program cache: %w", err)
	}
	if err := atomicfile.Write(path, seal(p.Digest, p.Filter), 0o600); err != nil {
		return nil, fmt.Errorf("seccomp program cache: %w", err)
	}
	pruneCache(dir)
	return p, nil
}

// binaryID names the running binary, which holds docker's default
// profile: its file's device, inode, size and modification time, "" when
// unknown. A new build or install of sandbox is a new file, and so
// compiles the default profile afresh.
var binaryID = sync.OnceValue(func() string {
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/exe", &st); err != nil {
		return ""
	}
	return fmt.Sprintf("%d:%d %d %d.%09d", st.Dev, st.Ino, st.Size, st.Mtim.Sec, st.Mtim.Nsec)
})

// kernelRelease is the running kernel's release (uname -r), "" if unknown:
// profiles hold rules for kernels from some release on.
func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}

// inputKey names what a program is compiled from: the profile (name is
// Default, or a file's path and profile its contents), the capabilities in
// their order, the kernel's release and the architecture. ok is false
// when one of them is unknown.
func inputKey(name string, profile []byte, caps []string, release string) (string, bool) {
	h := sha256.New()
	if name == Default {
		id := binaryID()
		if id == "" {
			return "", false
		}
		fmt.Fprintf(h, "default %s\n", id)
	} else {
		sum := sha256.Sum256(profile)
		fmt.Fprintf(h, "file %x\n", sum)
	}
	if release == "" {
		return "", false
	}
	fmt.Fprintf(h, "caps %s\nkernel %s\narch %s\n", strings.Join(caps, ","), release, runtime.GOARCH)
	return hex.EncodeToString(h.Sum(nil)), true
}

// cacheName is the file name of a program in the cache.
func cacheName(key string) string {
	return key + cacheSuffix()
}

// cacheSuffix ends the names of the files this binary caches programs in.
func cacheSuffix() string {
	major, minor, micro := libseccomp.GetLibraryVersion()
	return fmt.Sprintf("-libseccomp%d.%d.%d-%d.bpf", major, minor, micro, programFormat)
}

// pruneCache removes the programs another libseccomp or program format
// left in dir, which this binary would never read: run when a program was
// compiled, which such a change makes happen. Errors are of no
// consequence: a file left is only space.
func pruneCache(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	suffix := cacheSuffix()
	for _, e := range entries {
		if n := e.Name(); strings.HasSuffix(n, ".bpf") && !strings.HasSuffix(n, suffix) {
			os.Remove(filepath.Join(dir, n))
		}
	}
}

// digestSize is the length of a Program.Digest: "sha256:" and 64 hex
// digits.
const digestSize = len("sha256:") + 2*sha256.Size

// seal lays out a cached program: the digest, the program, and the sha256
// of both.
func seal(digest string, filter []byte) []byte {
	body := append([]byte(digest), filter...)
	sum := sha256.Sum256(body)
	return append(body, sum[:]...)
}

// unseal returns the digest and program of a cached file, if the file is
// whole: its sum matches, the digest has a digest's shape and the program
// a program's.
func unseal(data []byte) (digest string, filter []byte, ok bool) {
	if len(data) < digestSize+sha256.Size {
		return "", nil, false
	}
	body, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	if want := sha256.Sum256(body); !bytes.Equal(sum, want[:]) {
		return "", nil, false
	}
	digest, filter = string(body[:digestSize]), body[digestSize:]
	if hexPart, found := strings.CutPrefix(digest, "sha256:"); !found || !isLowerHex(hexPart) {
		return "", nil, false
	}
	return digest, filter, checkProgram(filter) == nil
}

// isLowerHex: only the digits 0-9 and a-f.
func isLowerHex(s string) bool {
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
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
