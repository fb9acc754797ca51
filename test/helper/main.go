// Command helper is a small static program that integration tests bind
// into busybox containers for what busybox lacks:
//
//	helper udp-echo PORT             answer every UDP datagram on PORT with itself
//	helper ignore-signals CMD ARG... run CMD with every signal ignored, even
//	                                 the two that libc keeps for itself (32, 33)
//	                                 and a shell's trap cannot reach
package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"syscall"
	"unsafe"
)

func main() {
	var err error
	switch {
	case len(os.Args) == 3 && os.Args[1] == "udp-echo":
		err = udpEcho(os.Args[2])
	case len(os.Args) > 2 && os.Args[1] == "ignore-signals":
		err = ignoreSignalsAndExec(os.Args[2:])
	default:
		fmt.Fprintln(os.Stderr, "usage: helper udp-echo PORT | helper ignore-signals CMD [ARG...]")
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
