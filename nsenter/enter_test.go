package nsenter

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	"sandbox/spec"

	"golang.org/x/sys/unix"
)

// records decodes a request as sandbox-nsenter reads it: type and data of
// each record, in order.
func records(t *testing.T, data []byte) (types []uint16, datas [][]byte) {
	t.Helper()
	if len(data) < 4 || int(binary.NativeEndian.Uint32(data)) != len(data)-4 {
		t.Fatalf("request length prefix %x does not match %d bytes", data[:min(4, len(data))], len(data)-4)
	}
	for b := data[4:]; len(b) > 0; {
		if len(b) < 8 {
			t.Fatalf("truncated record header %x", b)
		}
		typ, n := binary.NativeEndian.Uint16(b), binary.NativeEndian.Uint32(b[4:])
		if binary.NativeEndian.Uint16(b[2:]) != 0 || int(n) > len(b)-8 {
			t.Fatalf("bad record header %x", b[:8])
		}
		types, datas = append(types, typ), append(datas, b[8:8+n])
		b = b[8+n:]
	}
	return types, datas
}

func TestEncode(t *testing.T) {
	r := &Request{
		Target: spec.ProcessRef{Pid: 42, Start: 7},
		Process: spec.Process{
			Args: []string{"sh", "-c", "echo"}, Env: []string{"A=1"}, Cwd: "/tmp", UID: 1000, GID: 100,
			AdditionalGIDs: []uint32{10}, Capabilities: []string{"CAP_CHOWN", "CAP_KILL"},
			Terminal: true, Rows: 24, Cols: 80, Stdin: true, NoNewPrivileges: true,
			Rlimits: []spec.Rlimit{{Type: "RLIMIT_NOFILE", Soft: 10, Hard: 20}},
		},
		Seccomp: make([]byte, 16),
		Detach:  true, holdExec: true,
	}
	data, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	types, datas := records(t, data)
	want := []uint16{recTarget, recDetach, recArg, recArg, recArg, recEnv, recCwd, recUID, recGID, recGroup, recCaps, recTerminal, recStdin, recHold, recNoNewPrivs, recSeccomp, recRlimit}
	if !reflect.DeepEqual(types, want) {
		t.Fatalf("record types %v, want %v", types, want)
	}
	u64 := binary.NativeEndian.Uint64
	if u64(datas[0]) != 42 || u64(datas[0][8:]) != 7 || string(datas[3]) != "-c" || string(datas[6]) != "/tmp" ||
		binary.NativeEndian.Uint32(datas[7]) != 1000 || u64(datas[10]) != 1<<0|1<<5 ||
		binary.NativeEndian.Uint16(datas[11]) != 24 || binary.NativeEndian.Uint16(datas[11][2:]) != 80 || len(datas[15]) != 16 {
		t.Errorf("record data %q", datas)
	}
	if rl := datas[16]; binary.NativeEndian.Uint32(rl) != unix.RLIMIT_NOFILE || u64(rl[4:]) != 10 || u64(rl[12:]) != 20 {
		t.Errorf("rlimit record %x", rl)
	}

	for _, bad := range []*Request{
		{Process: spec.Process{Capabilities: []string{"CAP_NOPE"}}},
		{Seccomp: make([]byte, 12)},
		{Process: spec.Process{Rlimits: []spec.Rlimit{{Type: "RLIMIT_NOPE"}}}},
	} {
		if _, err := bad.Encode(); err == nil {
			t.Errorf("%+v encoded", bad)
		}
	}
}

func TestSealedCopy(t *testing.T) {
	src := filepath.Join(t.TempDir(), "bin")
	content := bytes.Repeat([]byte("sandbox-nsenter"), 50000)
	if err := os.WriteFile(src, content, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := sealedCopy(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Fd() < 10 {
		t.Errorf("the copy is fd %d, where os/exec may put the child's descriptors", f.Fd())
	}
	got, err := os.ReadFile("/proc/self/fd/" + itoa(f.Fd()))
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("copy differs (%d bytes, %v)", len(got), err)
	}
	seals, err := unix.FcntlInt(f.Fd(), unix.F_GET_SEALS, 0)
	want := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if err != nil || seals&want != want {
		t.Errorf("seals %#x (%v), want %#x", seals, err, want)
	}
	// Reopened for writing, as a container would through /proc/PID/exe.
	w, err := os.OpenFile("/proc/self/fd/"+itoa(f.Fd()), os.O_WRONLY, 0)
	if err == nil {
		_, err = w.Write([]byte("x"))
		w.Close()
	}
	if !errors.Is(err, unix.EPERM) {
		t.Errorf("write to the sealed copy: %v, want EPERM", err)
	}
}

// BenchmarkSealedCopy is the copy exec makes of sandbox-nsenter (about
// 700 kB, glibc static) at every exec.
func BenchmarkSealedCopy(b *testing.B) {
	src := filepath.Join(b.TempDir(), "bin")
	if err := os.WriteFile(src, make([]byte, 700<<10), 0o755); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		f, err := sealedCopy(src)
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}

func itoa(fd uintptr) string { return strconv.Itoa(int(fd)) }
