package nsinit

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestPreserveFds runs preserveFds in a child of the test with a socket
// on 3 and two pipes on 4 and 5, as the monitor clones the init for
// --preserve-fds 2: the pipes must end on 3 and 4, open across execve,
// and the socket above them, close-on-exec.
func TestPreserveFds(t *testing.T) {
	if os.Getenv("NSINIT_TEST_PRESERVE") == "1" {
		preserveChild()
		return
	}
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	sock := os.NewFile(uintptr(pair[1]), "sock")
	defer sock.Close()
	defer unix.Close(pair[0])
	var files []*os.File
	var names []string
	for i := 0; i < 2; i++ {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		defer w.Close()
		files = append(files, w)
		names = append(names, fmt.Sprintf("pipe:[%d]", inode(t, w)))
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestPreserveFds$")
	cmd.Env = append(os.Environ(), "NSINIT_TEST_PRESERVE=1")
	cmd.ExtraFiles = append([]*os.File{sock}, files...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	want := fmt.Sprintf("3 %s open\n4 %s open\nsock %s cloexec\n", names[0], names[1], fmt.Sprintf("socket:[%d]", inode(t, sock)))
	t.Logf("child:\n%s", out)
	if !strings.Contains(string(out), want) {
		t.Errorf("child reported:\n%s\nwant:\n%s", out, want)
	}
}

func inode(t *testing.T, f *os.File) uint64 {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// preserveChild is the child's side of TestPreserveFds.
func preserveChild() {
	if err := preserveFds(2); err != nil {
		fmt.Println("preserveFds:", err)
		os.Exit(1)
	}
	describe := func(label string, fd int) {
		link, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
		flags, ferr := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err != nil || ferr != nil {
			fmt.Println(label, "closed")
			return
		}
		state := "open"
		if flags&unix.FD_CLOEXEC != 0 {
			state = "cloexec"
		}
		fmt.Println(label, link, state)
	}
	describe("3", 3)
	describe("4", 4)
	describe("sock", syncFd)
	if _, err := unix.FcntlInt(5, unix.F_GETFD, 0); err == nil {
		fmt.Println("5 still open")
	}
}

// TestCloseExtraFds (unit): after closeExtraFds every descriptor above the
// preserved ones is close-on-exec, and the preserved ones (3 on) are not.
func TestCloseExtraFds(t *testing.T) {
	if os.Getenv("NSINIT_TEST_CLOSE_EXTRA") == "1" {
		closeExtraChild()
		return
	}
	var files []*os.File
	for i := 0; i < 4; i++ {
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		files = append(files, f)
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestCloseExtraFds$")
	cmd.Env = append(os.Environ(), "NSINIT_TEST_CLOSE_EXTRA=1")
	cmd.ExtraFiles = files // 3, 4, 5, 6, without close-on-exec
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	t.Logf("child:\n%s", out)
	if want := "3 open\n4 open\n5 cloexec\n6 cloexec\n"; !strings.Contains(string(out), want) {
		t.Errorf("child reported:\n%s\nwant:\n%s", out, want)
	}
}

// closeExtraChild is the child's side of TestCloseExtraFds: 3 and 4 are
// preserved.
func closeExtraChild() {
	preservedFds = 2
	for fd := 3; fd <= 6; fd++ {
		if flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil || flags&unix.FD_CLOEXEC != 0 {
			fmt.Println(fd, "not open without close-on-exec before:", err)
			os.Exit(1)
		}
	}
	closeExtraFds()
	for fd := 3; fd <= 6; fd++ {
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		switch {
		case err != nil:
			fmt.Println(fd, "closed")
		case flags&unix.FD_CLOEXEC != 0:
			fmt.Println(fd, "cloexec")
		default:
			fmt.Println(fd, "open")
		}
	}
}
