// Unit tests (privilege tier: none) of how the init gets its go-ahead.

package nsinit

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// monitorEnd makes a socket pair, the init's end as syncFd for the test,
// and returns the monitor's.
func monitorEnd(t *testing.T) int {
	t.Helper()
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	saved := syncFd
	syncFd = pair[1]
	t.Cleanup(func() {
		syncFd = saved
		unix.Close(pair[0])
		unix.Close(pair[1])
	})
	return pair[0]
}

// sendGoPipe sends a Begin with GoPipe and the pipe's read end, as the
// monitor does, and returns the write end, the command's.
func sendGoPipe(t *testing.T, mon int) *os.File {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	data, err := json.Marshal(Begin{GoPipe: true, HoldExec: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Sendmsg(mon, data, unix.UnixRights(int(r.Fd())), nil, 0); err != nil {
		t.Fatal(err)
	}
	return w
}

// With GoPipe, the init takes the configuration's path from the
// command's line on the pipe and forwards the line to the monitor first.
func TestReceiveBeginFromGoPipe(t *testing.T) {
	mon := monitorEnd(t)
	w := sendGoPipe(t, mon)
	defer w.Close()
	line := `{"config":"/s/c/config.json","log":"/s/c/ctr.log","cleanup":["sandbox"]}` + "\n"
	if _, err := w.WriteString(line); err != nil {
		t.Fatal(err)
	}
	// The command keeps the pipe open: the line is enough.
	b, err := receiveBegin()
	if err != nil {
		t.Fatal(err)
	}
	if b.Config != "/s/c/config.json" || !b.HoldExec {
		t.Fatalf("begin %+v, want the line's config and the monitor's HoldExec", b)
	}
	buf := make([]byte, 4096)
	n, _, _, _, err := unix.Recvmsg(mon, buf, nil, unix.MSG_DONTWAIT)
	if err != nil {
		t.Fatalf("the monitor got nothing: %v", err)
	}
	var m Message
	if err := json.Unmarshal(buf[:n], &m); err != nil {
		t.Fatal(err)
	}
	var fwd, sent map[string]any
	if err := json.Unmarshal(m.GoAhead, &fwd); err != nil {
		t.Fatalf("forwarded %q: %v", m.GoAhead, err)
	}
	if err := json.Unmarshal([]byte(line), &sent); err != nil {
		t.Fatal(err)
	}
	if len(fwd) != len(sent) || fwd["log"] != sent["log"] || fwd["config"] != sent["config"] {
		t.Fatalf("forwarded %v, the command sent %v", fwd, sent)
	}
}

// The pipe's end without a line (the command gave up, or died while it
// wrote) is no go-ahead, and nothing is forwarded.
func TestReceiveBeginAbandoned(t *testing.T) {
	for name, data := range map[string]string{"nothing": "", "part of a line": `{"config":"/s/c/con`} {
		t.Run(name, func(t *testing.T) {
			mon := monitorEnd(t)
			w := sendGoPipe(t, mon)
			if _, err := w.WriteString(data); err != nil {
				t.Fatal(err)
			}
			w.Close()
			if b, err := receiveBegin(); err == nil || !strings.Contains(err.Error(), "no go-ahead") {
				t.Fatalf("receiveBegin: %+v, %v; want no go-ahead", b, err)
			}
			buf := make([]byte, 4096)
			if n, _, _, _, err := unix.Recvmsg(mon, buf, nil, unix.MSG_DONTWAIT); err == nil {
				t.Fatalf("the monitor got %q", buf[:n])
			}
		})
	}
}
