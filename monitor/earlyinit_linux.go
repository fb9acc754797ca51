package monitor

// The early init: an init cloned before the monitor has its options.
//
// Options come once the command has checked its flags and claimed the
// container's run directory; the init then still has its process and its
// Go runtime to start, and about half the time it was the later of the two
// ways to the container's start (the command's go-ahead being the other).
// A monitor started by prerun's early.c, whose look at the command line
// found nothing that changes the init's shape (EarlyInitEnv), clones the
// init as soon as it runs, in the shape most containers have (earlyShape),
// while the options are still to come. With them, prepareInit keeps it
// when they ask for that shape (fitsEarly), after recording it and
// attaching its network (pendingInit.settle), or kills it and clones the
// one they ask for. It is not cloned where a delegated cgroup v2 would
// give the container a cgroup of its own: the init is cloned into that
// cgroup (CLONE_INTO_CGROUP), which the options name.

import (
	"log"
	"os"

	"sandbox/cgroupv2"
	"sandbox/spec"
)

// EarlyInitEnv, set to 1 in the monitor's environment, asks for an early
// init: the command line showed none of -i, -t, a network other than the
// container's own, a user namespace of its own or a pod.
const EarlyInitEnv = "_SANDBOX_EARLY_INIT"

// earlyShape is the init an early clone makes: namespaces of its own,
// the network's too; output through pipes, no input, no terminal; no
// descriptors beyond those; the monitor's cgroup.
var earlyShape = Clone{Network: spec.Network{Mode: spec.NetworkNone}}

// EarlyInit is an init cloned before the monitor's options (see above),
// with the cgroup layout seen then.
type EarlyInit struct {
	init     *pendingInit
	detected *cgroupv2.Status
}

// CloneEarlyInit clones an early init when the environment asks for one
// (EarlyInitEnv, which it removes: the processes the monitor starts need
// it not) and no cgroup is delegated; nil otherwise, and when the clone
// fails (the init is then cloned after the options, as always).
func CloneEarlyInit() *EarlyInit {
	wanted := os.Getenv(EarlyInitEnv) == "1"
	os.Unsetenv(EarlyInitEnv)
	if !wanted {
		return nil
	}
	st, err := cgroupv2.Detect()
	if err != nil || st.DelegateRoot != "" {
		return nil
	}
	p, err := forkInit(earlyShape, nil)
	if err != nil {
		log.Printf("early init: %v", err)
		return nil
	}
	return &EarlyInit{init: p, detected: st}
}

// Kill ends an early init that will not be used; nil does nothing.
func (e *EarlyInit) Kill() {
	if e != nil && e.init != nil {
		e.init.kill()
		e.init = nil
	}
}

// fitsEarly reports whether the init that c asks for, in cgroup cg, is
// the early init's shape.
func fitsEarly(c Clone, cg *leaf) bool {
	return cg == nil && c.Network.Own() && c.JoinNetns == nil && c.UserNS == nil &&
		!c.Terminal && !c.Stdin && c.PreserveFDs == 0 && !c.Passthrough
}
