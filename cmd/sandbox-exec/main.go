// Command sandbox-exec is the short way of `sandbox exec`. The pre-runtime
// hook of sandbox executes it in sandbox's place for `sandbox [GLOBAL
// FLAGS] exec ...` once it has joined the keeper's namespaces
// (prerun/shortexec.c), so that an exec starts this small binary rather
// than the whole command with its store and its hundred package inits.
//
// It takes the global flags --root, --runroot, --cgroup-manager and
// --events-backend, and runs the command in a container that it finds from
// the run root alone (spec.FindRunning), with the options it can take
// without the engine: -i, -t, -d, -e KEY[=VALUE], --env-file, -w, -u,
// --privileged, --security-opt no-new-privileges and --detach-keys. For
// anything else (another --security-opt, --help, a value or a file the
// whole command refuses, a container that the run root's links
// do not lead to, a paused or stopped one, a cgroup in a systemd scope) it
// executes sandbox itself, the whole command, with the same arguments:
// what the user then sees is what sandbox says, as if this binary were not
// there. Once it has started the exec it never goes back.
package main

import (
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"sandbox/attach"
	"sandbox/cmd/sandbox/execflags"
	"sandbox/events"
	"sandbox/imageuser"
	_ "sandbox/internal/batchsysmon"      // the runtime's sysmon does not preempt the work
	_ "sandbox/internal/hugeheap/atstart" // huge pages for the heap
	"sandbox/internal/proc"
	"sandbox/nsenter"
	"sandbox/spec"

	"github.com/spf13/pflag"
	"golang.org/x/term"
)

// CommandEnv names, in the environment the hook gives this binary, the
// sandbox binary that executed it: where the whole command is.
const CommandEnv = "_SANDBOX_COMMAND"

func main() {
	command := os.Getenv(CommandEnv)
	os.Unsetenv(CommandEnv)
	if plan, ok := planExec(os.Args[1:], os.Getenv("_SANDBOX_RUNTIME_DIR"), os.LookupEnv); ok {
		if code, done := plan.run(); done {
			os.Exit(code)
		}
	}
	// The whole command, in this process: its hook finds the keeper's
	// namespaces joined (the environment says so) and does not come back.
	if command == "" {
		fmt.Fprintf(os.Stderr, "Error: sandbox-exec runs only as `sandbox exec`: %s is not set\n", CommandEnv)
		os.Exit(spec.ExitSandbox)
	}
	err := syscall.Exec(command, os.Args, os.Environ())
	fmt.Fprintf(os.Stderr, "Error: execute %s: %v\n", command, err)
	os.Exit(spec.ExitSandbox)
}

// execPlan is an exec that the short way takes.
type execPlan struct {
	ref     string
	args    []string
	env     []string
	v       execflags.Values
	runRoot string
	// noEvents: --events-backend none.
	noEvents   bool
	detachKeys []byte
	// noNewPrivileges: --security-opt no-new-privileges.
	noNewPrivileges bool
}

// planExec parses exec's command line (args after argv[0]) and tells
// whether the short way takes it; runtimeDir is sandbox's runtime
// directory, whose storage/ is the run root unless --runroot says
// otherwise (cmd/sandbox's storageOptions).
func planExec(args []string, runtimeDir string, lookup func(string) (string, bool)) (*execPlan, bool) {
	if !filepath.IsAbs(runtimeDir) {
		return nil, false
	}
	p := &execPlan{runRoot: filepath.Join(runtimeDir, "storage")}
	args, ok := p.globals(args)
	if !ok || len(args) == 0 || args[0] != "exec" {
		return nil, false
	}
	f := pflag.NewFlagSet("exec", pflag.ContinueOnError)
	f.SetOutput(io.Discard)
	f.Usage = func() {}
	execflags.Define(f, &p.v, attach.DefaultDetachKeys)
	if err := f.Parse(args[1:]); err != nil {
		return nil, false // --help too: the whole command says it
	}
	rest := f.Args()
	v := p.v
	if len(rest) < 2 {
		return nil, false
	}
	for _, o := range v.SecurityOpts {
		if !oneOf(o, "no-new-privileges", "no-new-privileges=true", "no-new-privileges:true") {
			return nil, false // the engine's parser says what it makes of it
		}
		p.noNewPrivileges = true
	}
	keys, err := attach.ParseDetachKeys(v.DetachKeys)
	if err != nil {
		return nil, false
	}
	p.detachKeys = keys
	if v.Workdir != "" && !path.IsAbs(v.Workdir) {
		return nil, false
	}
	// The files' variables first, then -e's, as the engine's exec.
	for _, file := range v.EnvFiles {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, false
		}
		env, err := spec.ParseEnvFile(data, file, lookup)
		if err != nil {
			return nil, false
		}
		p.env = append(p.env, env...)
	}
	for _, e := range v.Env {
		kv, ok, err := spec.ParseEnv(e, lookup)
		if err != nil {
			return nil, false
		}
		if ok {
			p.env = append(p.env, kv)
		}
	}
	p.ref, p.args = rest[0], rest[1:]
	return p, true
}

// globals takes the global flags before the command that the short way
// knows, with values the whole command accepts, and returns the arguments
// from the command on; ok is false at any other flag. --root is taken and
// left (the links lead to the configuration), --cgroup-manager too (exec
// joins the cgroup its container's state names).
func (p *execPlan) globals(args []string) (rest []string, ok bool) {
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		name, value, inline := strings.Cut(args[0], "=")
		args = args[1:]
		if !inline {
			if len(args) == 0 {
				return nil, false
			}
			value, args = args[0], args[1:]
		}
		switch {
		case name == "--root":
		case name == "--runroot" && value != "":
			abs, err := filepath.Abs(value)
			if err != nil {
				return nil, false
			}
			p.runRoot = abs
		case name == "--cgroup-manager" && oneOf(value, "", "auto", "systemd", "cgroupfs"):
		case name == "--events-backend" && oneOf(value, "file", "journald", "none"):
			p.noEvents = value == "none"
		default:
			return nil, false
		}
	}
	return args, true
}

func oneOf(s string, list ...string) bool {
	for _, x := range list {
		if s == x {
			return true
		}
	}
	return false
}

// run runs the exec and returns its exit status; done is false, with
// nothing done, when the container is not one that the short way finds.
func (p *execPlan) run() (code int, done bool) {
	var rows, cols uint16
	if p.v.TTY {
		if p.v.Interactive && !term.IsTerminal(0) {
			return 0, false // the whole command's error
		}
		rows, cols = attach.TerminalSize()
	}
	// The helper's sealed copy is made beside the lookup.
	helper := nsenter.PrepareHelper()
	defer helper.Close()
	cfg := new(spec.ExecConfig)
	found, err := spec.FindRunning(spec.RunDirsIn(p.runRoot), p.ref, proc.Alive, cfg)
	if err != nil || inScope(found.State.Cgroup) {
		return 0, false
	}
	st := found.State
	po := nsenter.ProcessOptions{
		Args: p.args, Env: p.env, Workdir: p.v.Workdir,
		TTY: p.v.TTY, Interactive: p.v.Interactive, Rows: rows, Cols: cols,
		NoNewPrivileges: p.noNewPrivileges,
	}
	if p.v.Privileged {
		po.Capabilities = nsenter.AllCapabilities()
	}
	if p.v.User != "" {
		// A user the image does not have is the whole command's to say.
		u, err := imageuser.Resolve(cfg.Spec.Rootfs, p.v.User)
		if err != nil {
			return 0, false
		}
		po.User = &nsenter.ProcessUser{UID: u.UID, GID: u.GID, AdditionalGIDs: u.AdditionalGIDs, Home: u.Home}
	}
	req := &nsenter.Request{
		Target:  spec.ProcessRef{Pid: st.Pid, Start: st.PidStart},
		Process: nsenter.ExecProcess(&cfg.Spec.Process, po),
		Detach:  p.v.Detach, DetachKeys: p.detachKeys, Cgroup: st.Cgroup, Helper: helper,
	}
	if sc := cfg.Spec.Seccomp; sc != nil {
		req.Seccomp = sc.Filter
	}
	var journal events.Journal
	if !p.noEvents {
		journal = events.Journal{Path: events.DefaultPath(p.runRoot)}
	}
	record(journal, found, cfg, events.Exec, 0)
	code, err = nsenter.Run(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		return code, true
	}
	if !p.v.Detach {
		record(journal, found, cfg, events.ExecDied, code)
	}
	return code, true
}

// inScope reports whether a container's cgroup may be in a systemd scope,
// into which the user's systemd moves an exec's process when the command
// may not (the engine's exec asks it over D-Bus): a path with a component
// ending in .scope. That takes in every scope the engine knows, and
// perhaps more, which only sends those to the whole command.
func inScope(cgroup string) bool {
	return strings.Contains(cgroup+"/", ".scope/")
}

// record writes an exec event as the engine does (container.Runtime's
// recordCode).
func record(j events.Journal, c *spec.Running, cfg *spec.ExecConfig, s events.Status, code int) {
	e := events.Event{Type: events.Container, Status: s, ID: cfg.ID, Name: c.Name,
		Image: cfg.Image, Attributes: cfg.Labels, ContainerExitCode: code}
	if err := j.Write(e); err != nil {
		fmt.Fprintf(os.Stderr, "WARN: %v\n", err)
	}
}
