package nsinit

// Mount points made before the go-ahead.
//
// The mount points of the container's configuration files (/etc/hosts,
// /etc/hostname, /etc/resolv.conf, /run/.containerenv) are new files in
// the container's upper layer for most images, and /etc and /run copied
// up first: about 0.7 ms of the way from the go-ahead to the command on a
// file system whose inode allocation is slow (ext4 without a journal steps
// past every inode freed in the last seconds). The command mounts the
// root filesystem a little before it writes the configuration and the
// go-ahead; once the configuration's mounts are known it sends them ahead
// on the go-ahead's pipe (Prepare), and the init, which waits there, makes
// those mount points meanwhile, as mountPoint makes them after the
// go-ahead: resolved inside the root, created without following a link.
// After the go-ahead the init finds them there and only opens them.
//
// The command sends only binds that no other mount of the configuration
// is at or above (PrepareMounts): their mount points are in the root
// filesystem itself, whatever the order of the mounts. A mount point that
// cannot be made now is left to the pass after the go-ahead, which makes
// it or says why it cannot: making one is the same work then as now.

import (
	"encoding/json"
	"path"
	"strings"

	"sandbox/spec"
)

// Prepare is a line the command may write on the go-ahead's pipe before
// the go-ahead, as {"prepare": {...}}: the container's root filesystem,
// mounted, and binds of its configuration whose mount points can be made
// before the go-ahead.
type Prepare struct {
	Rootfs string       `json:"rootfs"`
	Mounts []spec.Mount `json:"mounts"`
}

// prepareLine is the form of the line.
type prepareLine struct {
	Prepare *Prepare `json:"prepare"`
}

// PrepareLine lays out p as the line the command writes, newline ended.
func PrepareLine(p Prepare) ([]byte, error) {
	data, err := json.Marshal(prepareLine{Prepare: &p})
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// IsPrepareLine reports whether a line of the go-ahead's pipe is a
// Prepare rather than the go-ahead: the only line that starts so.
func IsPrepareLine(line []byte) bool {
	return strings.HasPrefix(string(line), `{"prepare":`)
}

// PrepareMounts picks out of a configuration's mounts the binds whose
// mount points may be made before the go-ahead: those no other mount is
// at or above, so that they are in the root filesystem itself.
func PrepareMounts(mounts []spec.Mount) []spec.Mount {
	var out []spec.Mount
	for i, m := range mounts {
		dest := path.Clean(m.Destination)
		if m.Type != "bind" || !path.IsAbs(dest) || dest == "/" {
			continue
		}
		covered := false
		for j, o := range mounts {
			other := path.Clean(o.Destination)
			if j != i && (other == dest || other == "/" || strings.HasPrefix(dest, other+"/")) {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, m)
		}
	}
	return out
}

// prepare makes the mount points of p's mounts under its root filesystem
// (see above). What it cannot make is made, or refused with the reason,
// after the go-ahead.
func prepare(line []byte) {
	var l prepareLine
	if err := json.Unmarshal(line, &l); err != nil || l.Prepare == nil || l.Prepare.Rootfs == "" {
		return
	}
	r, err := openRootfs(l.Prepare.Rootfs)
	if err != nil {
		return
	}
	defer r.close()
	for i := range l.Prepare.Mounts {
		if t, err := mountPoint(r, &l.Prepare.Mounts[i]); err == nil {
			t.close()
		}
	}
}
