package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"syscall"

	"sandbox/internal/helperpath"
	"sandbox/userns"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

func newServiceCommand(g *globals) *cobra.Command {
	var idle uint
	cmd := &cobra.Command{
		Use:   "service [flags] [URI]",
		Short: "Serve the Docker Engine API on a socket",
		Long: `Serve the Docker Engine API, as the calling user, on a unix socket (default
unix://$XDG_RUNTIME_DIR/sandbox/sandbox.sock), or on tcp://127.0.0.1:PORT
when asked. Started by systemd's socket activation (LISTEN_FDS), it serves
the socket it is given.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fds := listenFds()
			// The pre-runtime hook made every inherited descriptor
			// close-on-exec; the sockets systemd passed go on to the
			// service.
			for fd := 3; fd < 3+fds; fd++ {
				if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0); err != nil {
					return fmt.Errorf("socket activation: descriptor %d: %w", fd, err)
				}
			}
			o, err := g.enter()
			if err != nil {
				return err
			}
			uri := ""
			if len(args) == 1 {
				uri = args[0]
			}
			if uri == "" && fds == 0 {
				uri = "unix://" + userns.RuntimeDir() + "/sandbox.sock"
			}
			helper, err := helperpath.Find("sandbox-service")
			if err != nil {
				return err
			}
			self, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find own executable: %w", err)
			}
			store, err := json.Marshal(o)
			if err != nil {
				return err
			}
			argv := []string{"sandbox-service", "--storage", string(store), "--self", self, "--time", strconv.FormatUint(uint64(idle), 10),
				"--cgroup-manager", string(g.manager), "--version", version, "--events", g.podman.journal(o.RunRoot).Path}
			if uri != "" {
				argv = append(argv, uri)
			}
			// The same process goes on as the service (LISTEN_PID stays
			// true), inside the keeper's namespaces.
			env := append(os.Environ(), userns.ChildEnv()...)
			return fmt.Errorf("start %s: %w", helper, syscall.Exec(helper, argv, env))
		},
	}
	cmd.Flags().UintVarP(&idle, "time", "t", 5, "seconds without a request before the service exits (0: never)")
	return cmd
}

// listenFds is how many sockets systemd passed to this process.
func listenFds() int {
	if pid, err := strconv.Atoi(os.Getenv("LISTEN_PID")); err != nil || pid != os.Getpid() {
		return 0
	}
	n, err := strconv.Atoi(os.Getenv("LISTEN_FDS"))
	if err != nil || n < 0 {
		return 0
	}
	return n
}
