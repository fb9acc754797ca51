package nsinit

import (
	"strings"
	"testing"

	"github.com/moby/sys/capability"
)

// TestCapMask: names become bits by the kernel's numbers; a capability
// above the kernel's last is left out, an unknown name is an error.
func TestCapMask(t *testing.T) {
	for _, tc := range []struct {
		names []string
		last  capability.Cap
		want  uint64
		err   string
	}{
		{names: nil, last: 40, want: 0},
		{names: []string{"CAP_CHOWN"}, last: 40, want: 1},
		{names: []string{"CAP_KILL", "CAP_NET_ADMIN"}, last: 40, want: 1<<5 | 1<<12},
		// docker's default set.
		{names: []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"}, last: 40, want: 0xa80425fb},
		// CAP_CHECKPOINT_RESTORE is 40: not on a kernel whose last is 39.
		{names: []string{"CAP_CHOWN", "CAP_CHECKPOINT_RESTORE"}, last: 39, want: 1},
		{names: []string{"CAP_CHOWN", "CAP_CHECKPOINT_RESTORE"}, last: 40, want: 1 | 1<<40},
		{names: []string{"CAP_NOPE"}, last: 40, err: `unknown capability "CAP_NOPE"`},
		{names: []string{"chown"}, last: 40, err: `unknown capability "chown"`},
	} {
		got, err := capMask(tc.names, tc.last)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("capMask(%q, %d): error %v, want %q", tc.names, tc.last, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("capMask(%q, %d) = %#x, %v; want %#x", tc.names, tc.last, got, err, tc.want)
		}
	}
}
