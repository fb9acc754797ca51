// Command helper is a small static program that integration tests bind
// into busybox containers for what busybox lacks:
//
//	helper udp-echo PORT             answer every UDP datagram on PORT with itself
//	helper ignore-signals CMD ARG... run CMD with every signal ignored, even
//	                                 the two that libc keeps for itself (32, 33)
//	                                 and a shell's trap cannot reach
//	helper probe NAME...             make each named system call (probe.go)
//	helper ids                       print the real and effective uid
//	helper watch-exe SECONDS         attackers of the security tests, run in a
//	helper ptrace-race SECONDS PATH  container beside sandbox exec (attack.go)
//	helper fd-grab SECONDS
//	helper environ-grab SECONDS NEEDLE
package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

func main() {
	var err error
	switch {
	case len(os.Args) == 3 && os.Args[1] == "udp-echo":
		err = udpEcho(os.Args[2])
	case len(os.Args) > 2 && os.Args[1] == "ignore-signals":
		err = ignoreSignalsAndExec(os.Args[2:])
	case len(os.Args) == 2 && os.Args[1] == "ids":
		fmt.Printf("uid=%d euid=%d\n", os.Getuid(), os.Geteuid())
	case len(os.Args) > 2 && os.Args[1] == "probe":
		err = probe(os.Args[2:])
	case len(os.Args) >= 3 && (strings.HasSuffix(os.Args[1], "-grab") || os.Args[1] == "watch-exe" || os.Args[1] == "ptrace-race"):
		err = attack(os.Args[1], os.Args[2:])
	default:
		fmt.Fprintln(os.Stderr, "usage: helper udp-echo PORT | ignore-signals CMD [ARG...] | probe NAME... | watch-exe|fd-grab SECONDS | ptrace-race SECONDS PATH | environ-grab SECONDS NEEDLE")
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
}

// ignoreSignalsAndExec sets every signal but SIGKILL and SIGSTOP to SIG_IGN
// with rt_sigaction itself (the runtime would not let os/signal ignore 32
// and 33) and becomes args.
// attack runs one of the attackers of attack.go for the seconds of args[0].
func attack(name string, args []string) error {
	secs, err := strconv.ParseFloat(args[0], 64)
	if err != nil {
		return fmt.Errorf("%s: seconds: %w", name, err)
	}
	d := time.Duration(secs * float64(time.Second))
	switch {
	case name == "watch-exe":
		return watchExe(d)
	case name == "fd-grab":
		return fdGrab(d)
	case name == "ptrace-race" && len(args) == 2:
		return ptraceRace(d, args[1])
	case name == "environ-grab" && len(args) == 2:
		return environGrab(d, args[1])
	}
	return fmt.Errorf("%s: wrong arguments %q", name, args)
}

func ignoreSignalsAndExec(args []string) error {
	path, err := exec.LookPath(args[0])
	if err != nil {
		return err
	}
	ign := [4]uint64{1} // struct sigaction, sa_handler first: SIG_IGN
	for sig := 1; sig <= 64; sig++ {
		if sig == int(syscall.SIGKILL) || sig == int(syscall.SIGSTOP) {
			continue
		}
		if _, _, e := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&ign)), 0, 8, 0, 0); e != 0 {
			return fmt.Errorf("ignore signal %d: %w", sig, e)
		}
	}
	return syscall.Exec(path, args, os.Environ())
}

func udpEcho(port string) error {
	c, err := net.ListenPacket("udp4", "0.0.0.0:"+port)
	if err != nil {
		return err
	}
	fmt.Println("listening")
	buf := make([]byte, 65536)
	for {
		n, addr, err := c.ReadFrom(buf)
		if err != nil {
			return err
		}
		fmt.Printf("from %v: %q\n", addr, buf[:n])
		if _, err := c.WriteTo(buf[:n], addr); err != nil {
			return err
		}
	}
}
