// The differential tier (privilege tier: rootless integration; `make
// test-compat`, part of `make test`): one table of command lines run in
// order against sandbox and against rootless podman (--runtime runc), each
// with a store of its own, comparing what a script sees: exit codes,
// output shapes (table columns, JSON keys, template results) and the key
// words of error messages. A row whose difference is kept on purpose says
// so, and why; it then checks sandbox's own exit code, and fails once the
// two agree (the note would be stale).

package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// outCmp is how a row compares standard output.
type outCmp int

const (
	outNone   outCmp = iota // exit code (and message) only
	outExact                // the same text
	outShape                // the same text once IDs, times, sizes and ports are masked
	outTable                // the same header columns and number of rows
	outKeys                 // JSON: podman's keys are all sandbox's (first element of an array)
	outLines                // the same number of lines
	outSorted               // the same lines in any order (podman acts on several at once)
)

// compatRow is one command line of the differential table.
type compatRow struct {
	line  string // the arguments, split on spaces; '...' quotes
	out   outCmp
	msg   string // words both print on standard error
	stdin string // a file of the side's directory ({DIR}/...) fed to standard input
	// keys are JSON keys podman has and sandbox leaves out on purpose
	// (outKeys).
	keys []string
	// differs is a difference kept on purpose, and why; code is then
	// sandbox's own exit code.
	differs string
	code    int
	// podmanVaries: podman's own answer to the row changes from run to
	// run, so that its agreeing with sandbox says nothing.
	podmanVaries bool
}

// compatTable runs in order: earlier rows make what later rows look at.
// The containers: c-run (running, label, env, published port), c-exit
// (exited 3 with output on both streams), c-new (created), c-log.
var compatTable = []compatRow{
	// version and info
	{line: "version --format {{.Client.Version}}", out: outLines},
	{line: "version --format {{.Client.Os}}/{{.Client.OsArch}}", out: outLines},
	{line: "version --format json", out: outKeys},
	{line: "version --bogus", msg: "unknown flag: --bogus"},
	{line: "info --format json", out: outKeys, keys: []string{"plugins"}},
	{line: "info --format {{.Host.OCIRuntime.Name}}", out: outLines},
	{line: "info --format {{.Host.Arch}}", out: outExact},
	{line: "info --format {{.Host.Kernel}}", out: outExact},
	{line: "info --format {{.Host.Hostname}}", out: outExact},
	{line: "info --format {{.Host.CgroupManager}}", out: outLines},
	{line: "info --format {{.Host.Security.Rootless}}", out: outExact},
	{line: "info --format {{.Store.GraphDriverName}}", out: outExact},
	{line: "info --format {{.Store.ImageStore.Number}}", out: outExact},
	{line: "info --format {{.Store.ContainerStore.Number}}", out: outExact},
	{line: "info --format '{{json .Host.Distribution}}'", out: outKeys},
	{line: "info --format {{.Host.NoSuchField}}", msg: "NoSuchField"},
	{line: "info extra"},

	// images, tag, rmi
	{line: "images", out: outTable},
	{line: "images -q", out: outLines},
	{line: "images --noheading", out: outLines},
	{line: "images -a", out: outTable},
	{line: "images --no-trunc", out: outTable},
	{line: "images --no-trunc --format {{.ID}}", out: outShape},
	{line: "images --format json", out: outKeys, keys: []string{"ParentId", "RepoTags", "RepoDigests", "SharedSize", "VirtualSize", "Labels", "Containers", "History", "Dangling", "ReadOnly", "Digest", "ConfigDigest", "CreatedAt", "Arch", "Os"}},
	{line: "images --format {{.ID}}", out: outShape},
	{line: "images --format {{.Id}}", out: outShape},
	{line: "images --format {{.Repository}}:{{.Tag}}", out: outShape},
	{line: "images --format {{.Size}}", out: outShape},
	{line: "images --format {{.CreatedSince}}", out: outShape},
	{line: "images --format {{.Digest}}", out: outShape},
	{line: "images --format '{{json .}}'", out: outKeys, keys: []string{"ParentId", "RepoTags", "RepoDigests", "SharedSize", "VirtualSize", "Labels", "Containers", "History", "Dangling", "ReadOnly", "Digest", "ConfigDigest", "CreatedAt", "Arch", "Os"}},
	{line: "images --format 'table {{.Repository}} {{.Tag}}'", out: outTable},
	{line: "images busybox", out: outTable},
	{line: "images nothere", out: outTable},
	{line: "images --bogus", msg: "unknown flag: --bogus"},
	{line: "tag busybox bb:one", out: outExact},
	{line: "tag busybox bb:two bb:three", out: outExact},
	{line: "tag nothere bb:x", msg: "nothere"},
	{line: "images --format {{.Tag}} bb", out: outLines, differs: "podman lists every name of an image one of whose names matches (latest of busybox too); sandbox lists the matching names, as docker does"},
	{line: "image exists bb:one", out: outExact},
	{line: "image exists bb:nothere", out: outExact},
	{line: "rmi bb:two", out: outShape},
	{line: "rmi bb:three", out: outShape},
	{line: "rmi nothere", msg: "nothere"},
	{line: "rmi -i nothere", out: outExact},
	{line: "rmi --ignore nothere", out: outExact},
	// A whole id that names nothing is a missing image, not a bad name.
	{line: "rmi " + strings.Repeat("0", 64), msg: "image not known"},
	{line: "image exists " + strings.Repeat("0", 64), out: outExact},
	{line: "history " + strings.Repeat("0", 64), msg: "image not known"},
	{line: "rmi", msg: "image name or ID must be specified"},

	// save, load, import
	{line: "save -o {DIR}/bb.tar busybox", out: outExact},
	{line: "save --format oci-archive -o {DIR}/bb-oci.tar busybox", out: outExact},
	{line: "save nothere -o {DIR}/x.tar", msg: "nothere"},
	{line: "save --format bogus -o {DIR}/x.tar busybox", msg: "oci-archive"},
	{line: "rmi bb:one", out: outShape},
	{line: "load -i {DIR}/bb.tar", out: outShape},
	{line: "load -q -i {DIR}/bb-oci.tar", out: outLines},
	{line: "load", stdin: "{DIR}/bb.tar", out: outShape},
	{line: "load -i {DIR}/nothere.tar", msg: "nothere.tar"},
	{line: "import {DIR}/rootfs.tar imported", out: outShape},
	{line: "import --change 'ENV A=b' {DIR}/rootfs.tar imported2", out: outShape},
	{line: "import -m message {DIR}/rootfs.tar imported3", out: outShape},
	{line: "import - imported4", stdin: "{DIR}/rootfs.tar", out: outShape},
	{line: "import {DIR}/nothere.tar", msg: "nothere.tar"},
	{line: "import --change 'BOGUS x' {DIR}/rootfs.tar", msg: "BOGUS"},
	{line: "inspect --format {{.Config.Env}} imported2", out: outExact},
	{line: "rmi imported imported2 imported3 imported4", out: outShape, differs: "docker prints each image's Untagged and Deleted lines in turn, with sha256:; podman 4.3 prints all Untagged lines first and no sha256:. sandbox keeps docker's"},
	{line: "images --format {{.Repository}}", out: outShape},

	// create, start, run
	{line: "create --name c-new busybox echo hi", out: outShape},
	{line: "create --name c-new busybox true", msg: "is already in use by"},
	{line: "create nothere", msg: "nothere"},
	{line: "create --bogus busybox", msg: "unknown flag: --bogus"},
	{line: "container exists c-new", out: outExact},
	{line: "container exists nothere", out: outExact},
	{line: "run --rm busybox echo hello", out: outExact},
	{line: "run --rm busybox sh -c 'exit 7'", out: outExact},
	{line: "run --rm busybox nothere", msg: "nothere"},
	{line: "run --rm busybox /etc/passwd", msg: "permission denied"},
	{line: "run --rm nothere-image", msg: "nothere-image"},
	{line: "run --rm --bogus busybox", msg: "unknown flag: --bogus"},
	{line: "run --rm -e A=1 --env B=2 busybox sh -c 'echo $A$B'", out: outExact},
	{line: "run --rm -w /tmp busybox pwd", out: outExact},
	{line: "run --rm -u 1:2 busybox id -u", out: outExact},
	{line: "run --rm --hostname hh busybox hostname", out: outExact},
	{line: "run --rm --entrypoint echo busybox ep", out: outExact},
	{line: `run --rm --entrypoint '["echo","json"]' busybox`, out: outExact},
	{line: "run --rm -i busybox cat", stdin: "{DIR}/input.txt", out: outExact},
	{line: "run --rm --network none busybox ip -o link show", out: outLines},
	{line: "run --rm --read-only busybox touch /x", msg: "Read-only file system"},
	{line: "run --rm --tz UTC busybox date +%Z", out: outExact},
	{line: "run --rm --init busybox sh -c 'echo $$'", out: outLines},
	{line: "run --rm --userns keep-id busybox id -un", out: outExact},
	{line: "run --rm --userns keep-id busybox sh -c 'echo $HOME'", out: outExact},
	{line: "run --rm busybox test -e /run/.containerenv", out: outExact},
	{line: "run --rm --log-driver none busybox echo nolog", out: outExact},
	{line: "run --rm --log-driver passthrough busybox echo pass", out: outExact},
	{line: "run --rm -i --log-driver passthrough busybox cat", stdin: "{DIR}/input.txt", out: outExact},
	{line: "run --rm -t --log-driver passthrough busybox true", msg: "passthrough", differs: "podman 4.3 accepts -t with passthrough when its input is not a terminal; sandbox refuses -t with passthrough always: the container would hold the caller's terminal (TIOCSTI)", code: 125},
	{line: "run --rm --log-driver bogus busybox true", msg: "log driver"},
	{line: "run --rm --memory 0 busybox true", out: outExact},
	{line: "run --rm -v /anon busybox test -d /anon", out: outExact},
	{line: "run --rm --network bridge busybox true", out: outExact},
	{line: "run --rm --pull never busybox true", out: outExact},
	{line: "run --rm --pull never nothere-image", msg: "nothere-image"},
	{line: "run --rm --timeout 1 busybox sleep 10", out: outExact, differs: "podman 4.3 exits 255 when --timeout kills the container; sandbox gives the status of the kill, 137, as for any container killed by SIGKILL", code: 137},
	{line: "run --name c-exit busybox sh -c 'echo out; echo err >&2; exit 3'", out: outExact},
	{line: "run -d --name c-run --label app=web -e FOO=bar -p 80 busybox sleep 1000", out: outShape},
	{line: "run --name c-log busybox sh -c 'echo one; echo two; echo three'", out: outExact},
	{line: "run -d --name c-run busybox true", msg: "is already in use by"},
	{line: "run --replace -d --name c-repl busybox sleep 1000", out: outShape},
	{line: "run --replace -d --name c-repl busybox sleep 1000", out: outShape, differs: "podman also prints the name of the container it replaced; sandbox prints only the new ID, so $(sandbox run -d --replace ...) is the ID as without --replace"},
	{line: "start c-new", out: outExact},
	{line: "start -a c-exit", out: outExact},
	{line: "start c-run", out: outExact, differs: "docker prints the name of every container it was asked to start, running or not; podman 4.3 prints nothing for one already running. sandbox keeps docker's"},
	{line: "start nothere", msg: `no container with name or ID "nothere" found`,
		differs: "podman 4.3 exits 125 for a missing container against its man page; sandbox exits 1 as docker does", code: 1},

	// ps
	{line: "ps", out: outTable},
	{line: "ps -a", out: outTable},
	{line: "ps -q", out: outLines},
	{line: "ps -aq", out: outLines},
	{line: "ps --noheading -a", out: outLines},
	{line: "ps -a --no-trunc", out: outTable},
	{line: "ps -a --format {{.Names}} --sort names", out: outExact},
	{line: "ps -a --format {{.Names}} --filter status=exited --sort names", out: outExact},
	{line: "ps -a --format {{.Names}} --filter status=created", out: outExact},
	{line: "ps -a --format {{.Names}} --filter name=c-run", out: outExact},
	{line: "ps -a --format {{.Names}} --filter label=app=web", out: outExact},
	{line: "ps -a --format {{.Names}} --filter exited=3", out: outExact},
	{line: "ps -a --format {{.Names}} --filter ancestor=busybox --sort names", out: outExact, differs: "podman named the imported image localhost/busybox and its ancestor filter does not match the short name; sandbox (and docker) name it busybox as given"},
	{line: "ps -a --format {{.Names}} --filter status=bogus", msg: "bogus"},
	{line: "ps -a --format {{.Names}} --filter bogus=1", msg: "bogus"},
	{line: "ps --format {{.ID}} --sort names", out: outShape},
	{line: "ps --format {{.Image}} --sort names", out: outShape, differs: "podman prints the image's full name (busybox:latest); sandbox prints it as the container was created from (busybox), as docker does"},
	{line: "ps --format {{.ImageName}} --sort names", out: outShape},
	{line: "ps --format {{.Command}} --sort names", out: outShape, differs: "sandbox quotes the command as docker does (\"sleep 1000\"); podman 4.3 does not"},
	{line: "ps --format {{.Labels.app}} --sort names", out: outExact, differs: "a label a container does not have prints nothing (docker); podman prints Go's <no value>"},
	{line: "ps --format {{.Ports}} --sort names", out: outShape},
	{line: "ps --format {{.State}} --sort names", out: outExact, differs: "{{.State}} is the state word (running), as docker's; podman 4.3 prints the status sentence there (Up 3 seconds ago)"},
	{line: "ps -a --format {{.Status}} --filter name=c-exit", out: outShape},
	{line: "ps --format json", out: outKeys, keys: []string{"AutoRemove", "CIDFile", "Created", "CreatedAt", "Exited", "ExitedAt", "ExitCode", "Namespaces", "Networks", "Pid", "Pod", "PodName", "Size", "StartedAt", "Status", "Mounts"}},
	{line: "ps --format '{{json .Names}}' --sort names", out: outExact},
	{line: "ps --format 'table {{.Names}}\t{{.State}}'", out: outTable},
	{line: "ps -s --format {{.Names}} --sort names", out: outExact},
	{line: "ps --last 1 -a --format {{.Names}}", out: outLines},
	{line: "ps --bogus", msg: "unknown flag: --bogus"},

	// logs
	{line: "logs c-exit", out: outExact},
	{line: "logs --tail 1 c-log", out: outExact},
	{line: "logs --tail 0 c-log", out: outExact},
	{line: "logs -n 2 c-log", out: outExact, differs: "-n is docker's short form of --tail; podman 4.3 has none"},
	{line: "logs -t c-log", out: outShape},
	{line: "logs --since 2000-01-01T00:00:00 c-log", out: outExact},
	{line: "logs --until 2000-01-01T00:00:00 c-log", out: outExact},
	{line: "logs --names c-log c-exit", out: outLines},
	{line: "logs nothere", msg: "nothere"},
	{line: "logs", msg: "specify at least one container name or ID"},

	// inspect
	{line: "inspect c-run", out: outKeys, keys: inspectLeftOut},
	{line: "container inspect c-run", out: outKeys, keys: inspectLeftOut},
	{line: "inspect --format {{.Name}} c-run", out: outExact, differs: "docker's .Name has a leading slash (/c-run), which scripts for docker strip; podman has none. sandbox keeps docker's"},
	{line: "inspect --format {{.State.Status}} c-run", out: outExact},
	{line: "inspect --format {{.State.Running}} c-run", out: outExact},
	{line: "inspect --format {{.State.ExitCode}} c-exit", out: outExact},
	{line: "inspect --format {{.State.Status}} c-new", out: outExact},
	{line: "inspect --format {{.Config.Labels.app}} c-run", out: outExact},
	{line: "inspect --format {{.Config.Cmd}} c-run", out: outExact},
	{line: "inspect --format {{.Id}} c-run", out: outShape},
	{line: "inspect --format {{.ID}} c-run", out: outShape},
	{line: "inspect --format {{.ImageName}} c-run", out: outShape},
	{line: "inspect --format {{.RestartCount}} c-run", out: outExact},
	{line: "inspect --format '{{json .Config.Labels}}' c-run", out: outExact},
	{line: "inspect --format {{.HostConfig.NetworkMode}} c-run", out: outLines},
	{line: "inspect --format {{.Config.Hostname}} c-run", out: outShape},
	{line: "inspect --format {{.Os}} busybox", out: outExact},
	{line: "inspect --format {{.Architecture}} busybox", out: outExact},
	{line: "inspect --format {{.Config.Cmd}} busybox", out: outExact},
	{line: "inspect --type image --format {{.Os}} busybox", out: outExact},
	{line: "inspect --type container --format {{.State.Status}} c-exit", out: outExact},
	{line: "inspect busybox", out: outKeys, keys: []string{"Digest", "RepoDigests", "Parent", "Comment", "Version", "Author", "GraphDriver", "RootFS", "Labels", "Annotations", "ManifestType", "User", "History", "NamesHistory"}},
	{line: "inspect nothere", msg: "nothere"},
	{line: "inspect --format {{.State.Running}} c-run nothere", out: outExact, msg: "nothere"},

	// exec, top, port
	{line: "exec c-run echo in", out: outExact},
	{line: "exec c-run sh -c 'exit 4'", out: outExact},
	{line: "exec c-run nothere", msg: "nothere"},
	{line: "exec -e X=y c-run sh -c 'echo $X'", out: outExact},
	{line: "exec -w /tmp c-run pwd", out: outExact},
	{line: "exec -u 1 c-run id -u", out: outExact},
	{line: "exec -i c-run cat", stdin: "{DIR}/input.txt", out: outExact},
	{line: "exec c-run sh -c 'echo $FOO'", out: outExact},
	{line: "exec c-exit true", msg: "not running", differs: "podman exits 255 (container state improper); sandbox exits 125, its own error, as for every refused command", code: 125},
	{line: "exec nothere true", msg: "nothere"},
	{line: "exec -d c-run sleep 1", out: outExact, differs: "podman prints the exec session's ID; sandbox has no exec sessions to name and prints nothing, as docker does"},
	{line: "top c-run", out: outTable},
	{line: "top c-run pid comm", out: outTable},
	{line: "top c-exit", msg: "running"},
	{line: "top nothere", msg: "nothere"},
	{line: "port c-run", out: outShape},
	{line: "port c-run 80", out: outShape},
	{line: "port c-run 80/tcp", out: outShape},
	{line: "port c-run 81", msg: "81"},
	{line: "port -a", out: outShape},
	{line: "port nothere", msg: "nothere"},

	// stats, pause (the machine's cgroups decide: both sides see the same)
	{line: "stats --no-stream --format {{.Name}} c-run"},
	{line: "pause c-run"},
	{line: "unpause c-run"},
	{line: "pause nothere", msg: "nothere", differs: "podman 4.3 exits 125 against its man page (1); sandbox exits 1 as the man page and docker say", code: 1},

	// wait, stop, kill
	{line: "wait c-exit", out: outExact},
	{line: "wait c-new", out: outExact},
	{line: "wait --condition running c-run", out: outExact},
	{line: "wait nothere", msg: "nothere"},
	{line: "kill nothere", msg: `no container with name or ID "nothere" found`, differs: "podman 4.3 exits 125 against its man page (1); sandbox exits 1 as the man page and docker say", code: 1},
	{line: "kill c-exit", msg: "running"},
	{line: "kill -s BOGUS c-run", msg: "BOGUS"},
	{line: "kill -s USR1 c-repl", out: outExact},
	{line: "stop nothere", msg: `no container with name or ID "nothere" found`, differs: "podman 4.3 exits 125 against its man page (1); sandbox exits 1 as the man page and docker say", code: 1},
	{line: "stop -i nothere", out: outExact},
	{line: "stop c-exit", out: outExact},
	{line: "stop -t 0 c-repl", out: outExact},
	{line: "wait c-repl", out: outExact},
	{line: "kill c-run", out: outExact},
	{line: "wait c-run", out: outExact},
	{line: "restart c-run", out: outExact},
	{line: "restart -t 0 c-run", out: outExact},
	{line: "inspect --format {{.State.Status}} c-run", out: outExact},

	// rm
	{line: "rm c-run", msg: "running"},
	{line: "rm nothere", msg: `no container with name or ID "nothere" found`},
	{line: "rm -f nothere", out: outExact},
	{line: "rm -i nothere", out: outExact},
	{line: "rm c-exit c-new", out: outSorted},
	{line: "rm -f -t 0 c-run", out: outExact},
	{line: "rm -f c-repl c-log", out: outSorted},
	{line: "rm -a", out: outExact},
	{line: "ps -a", out: outTable},
	{line: "rmi busybox:latest --force", out: outShape, differs: "docker prints Deleted: sha256:ID; podman 4.3 leaves out sha256:. sandbox keeps docker's"},
	{line: "images -q", out: outExact},

	// events: what was recorded above
	{line: "events --stream=false --filter container=c-exit --format {{.Status}}", out: outExact, differs: "podman records a second cleanup when rm cleans up a container that its own cleanup cleaned already; sandbox records one cleanup per run"},
	{line: "events --stream=false --filter container=c-log --format {{.Status}}", out: outExact},
	{line: "events --stream=false --filter container=c-new --format {{.Status}}", out: outExact},
	{line: "events --stream=false --filter event=restart --format {{.Name}}", out: outExact},
	{line: "events --stream=false --filter type=image --filter event=tag --format {{.Status}}", out: outLines},
	{line: "events --stream=false --filter event=exec --format {{.Name}}", out: outLines, differs: "sandbox records the exec of a command that is not found (and its exec_died, 127); podman 4.3 records neither"},
	{line: "events --stream=false --filter container=c-repl --format {{.Status}}", out: outExact, differs: "sandbox records the stop after a stop's exit and one cleanup after every exit; podman 4.3 records no stop for stop -t 0, no cleanup for a container --replace removed, and two after rm"},
	{line: "events --stream=false --filter container=c-exit --format json", out: outKeys},
	{line: "events --stream=false --filter container=c-exit --format {{.ContainerExitCode}}", out: outLines, differs: "podman's second cleanup event (above)"},
	{line: "events --stream=false --since 1h --filter container=c-run --format {{.Status}}", out: outExact, differs: "podman records a pause that failed (cgroup v1 here), exec_died for a detached exec, and a restart of a running container before its died; sandbox records what happened, in order"},
	{line: "events --stream=false --filter bogus=1", msg: "bogus", differs: "podman 4.3 ignores a filter it does not know and prints everything; sandbox refuses it naming the keys it has", code: 125},
	{line: "events --stream=false --since bogus", msg: "bogus", differs: "podman 4.3 ignores a --since it cannot read in most runs, and refuses it in some; sandbox always refuses it", code: 125, podmanVaries: true},

	// groups and unknown names
	{line: "container bogus", msg: "bogus"},
	{line: "image bogus", msg: "bogus"},
	{line: "bogus", msg: "bogus"},
	{line: "container ls -a", out: outTable},
	{line: "image ls", out: outTable},
}

// inspectLeftOut are the keys of podman's container inspect that sandbox
// does not have, on purpose: podman's pods, conmon and OCI runtime files,
// its own bookkeeping; none has a meaning for sandbox's engine.
var inspectLeftOut = []string{"Pod", "ConmonPidFile", "OCIConfigPath", "OCIRuntime", "Namespace", "IsInfra", "IsService",
	"ExitCommand", "StaticDir", "Dependencies", "EffectiveCaps", "BoundingCaps", "HostnamePath", "HostsPath",
	"ProcessLabel", "MountLabel", "PidFile"}

// compatSide is one engine of the comparison with its own store.
type compatSide struct {
	name string
	dir  string // files of this side: tarballs, inputs
	cmd  func(args ...string) *exec.Cmd
}

func (s compatSide) run(t *testing.T, row compatRow) result {
	args := splitLine(strings.ReplaceAll(row.line, "{DIR}", s.dir))
	cmd := s.cmd(args...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if row.stdin != "" {
		f, err := os.Open(strings.ReplaceAll(row.stdin, "{DIR}", s.dir))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cmd.Stdin = f
	}
	timer := time.AfterFunc(60*time.Second, func() {
		if cmd.Process != nil {
			cmd.Process.Kill()
		}
	})
	err := cmd.Run()
	timer.Stop()
	r := result{args: append([]string{"(" + s.name + ")"}, args...), stdout: stdout.String(), stderr: stderr.String()}
	if ee, isExit := err.(*exec.ExitError); isExit {
		r.code = ee.ExitCode()
	} else if err != nil {
		r.code = -1
		r.stderr += err.Error()
	}
	return r
}

func TestCompat(t *testing.T) {
	if len(compatTable) < 150 {
		t.Fatalf("the table has %d rows: want at least 150", len(compatTable))
	}
	// podman's events go to a file of its own (its default journal is
	// shared by every podman store of the user), its images to overlay as
	// sandbox's do.
	pmTmp, err := os.MkdirTemp(os.Getenv("XDG_RUNTIME_DIR"), "compat-podman-tmp-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(pmTmp) })
	ref := newReference(t)
	tmp := t.TempDir()
	sbRoot, err := os.MkdirTemp(filepath.Dir(env.root), "compat-root-")
	if err != nil {
		t.Fatal(err)
	}
	sbRun, err := os.MkdirTemp(os.Getenv("XDG_RUNTIME_DIR"), "compat-run-")
	if err != nil {
		t.Fatal(err)
	}
	sbSide := compatSide{name: "sandbox", dir: filepath.Join(tmp, "sandbox"), cmd: func(args ...string) *exec.Cmd {
		return exec.Command(env.bin, append([]string{"--root", sbRoot, "--runroot", sbRun}, args...)...)
	}}
	t.Cleanup(func() {
		sbSide.run(t, compatRow{line: "rm -a -f -t 0"})
		// The store's own bind mount of its overlay directory goes first.
		if r := sbSide.run(t, compatRow{line: "unshare sh -c 'umount " + sbRoot + "/overlay; rm -rf " + sbRoot + "'"}); r.code != 0 {
			t.Errorf("cleanup: %s", r)
		}
		os.RemoveAll(sbRun)
	})
	ref.store = append(ref.store, "--storage-driver", "overlay", "--events-backend", "file", "--tmpdir", pmTmp)
	pmSide := compatSide{name: "podman", dir: filepath.Join(tmp, "podman"), cmd: ref.cmd}
	for _, s := range []compatSide{sbSide, pmSide} {
		if err := os.MkdirAll(s.dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(s.dir, "input.txt"), []byte("line one\nline two\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Link(env.tarball, filepath.Join(s.dir, "rootfs.tar")); err != nil {
			t.Fatal(err)
		}
		if r := s.run(t, compatRow{line: "import --change 'CMD [\"sh\"]' {DIR}/rootfs.tar busybox"}); r.code != 0 {
			t.Fatalf("%s", r)
		}
	}
	kept := 0
	for i, row := range compatTable {
		sr, pr := sbSide.run(t, row), pmSide.run(t, row)
		where := fmt.Sprintf("row %d `%s`", i, row.line)
		diffs := compareRow(row, sr, pr)
		if row.differs != "" {
			kept++
			if sr.code != row.code {
				t.Errorf("%s: sandbox: want exit %d (kept on purpose: %s)\n%s", where, row.code, row.differs, sr)
			}
			if len(diffs) == 0 && !row.podmanVaries {
				t.Errorf("%s: listed as differing (%s), but sandbox and podman agree: remove the note", where, row.differs)
			}
			continue
		}
		for _, d := range diffs {
			t.Errorf("%s: %s\n%s\n%s", where, d, sr, pr)
		}
	}
	t.Logf("%d rows, %d differences kept on purpose", len(compatTable), kept)
}

// compareRow lists how sandbox's result sr differs from podman's pr.
func compareRow(row compatRow, sr, pr result) []string {
	var diffs []string
	if sr.code != pr.code {
		diffs = append(diffs, fmt.Sprintf("exit %d, podman %d", sr.code, pr.code))
	}
	if row.msg != "" {
		both := []result{sr, pr}
		if row.differs != "" {
			both = both[:1]
		}
		for _, r := range both {
			if !strings.Contains(r.stderr, row.msg) {
				diffs = append(diffs, fmt.Sprintf("%s does not say %q", r.args[0], row.msg))
			}
		}
	}
	s, p := sr.stdout, pr.stdout
	switch row.out {
	case outExact:
		if trimLines(s) != trimLines(p) {
			diffs = append(diffs, fmt.Sprintf("output %q, podman %q", s, p))
		}
	case outShape:
		if a, b := maskShape(s), maskShape(p); a != b {
			diffs = append(diffs, fmt.Sprintf("output shape %q, podman %q", a, b))
		}
	case outSorted:
		if a, b := sortedLines(s), sortedLines(p); a != b {
			diffs = append(diffs, fmt.Sprintf("lines %q, podman %q", a, b))
		}
	case outLines:
		if a, b := len(nonEmptyLines(s)), len(nonEmptyLines(p)); a != b {
			diffs = append(diffs, fmt.Sprintf("%d lines, podman %d", a, b))
		}
	case outTable:
		sl, pl := nonEmptyLines(s), nonEmptyLines(p)
		if len(sl) != len(pl) {
			diffs = append(diffs, fmt.Sprintf("%d lines, podman %d", len(sl), len(pl)))
		}
		if len(sl) > 0 && len(pl) > 0 {
			if a, b := columns(sl[0]), columns(pl[0]); a != b {
				diffs = append(diffs, fmt.Sprintf("columns %q, podman %q", a, b))
			}
		}
	case outKeys:
		sk, err1 := jsonKeys(s)
		pk, err2 := jsonKeys(p)
		if err1 != nil || err2 != nil {
			diffs = append(diffs, fmt.Sprintf("JSON: sandbox %v, podman %v", err1, err2))
			break
		}
		leftOut := map[string]bool{}
		for _, k := range row.keys {
			leftOut[k] = true
		}
		var missing []string
		for k := range pk {
			if !sk[k] && !leftOut[k] {
				missing = append(missing, k)
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			diffs = append(diffs, fmt.Sprintf("JSON keys podman has and sandbox does not: %v", missing))
		}
	}
	return diffs
}

// splitLine splits a table row on spaces; '...' or `...` keeps a word's
// spaces.
func splitLine(s string) []string {
	var words []string
	var cur strings.Builder
	in, quoted := byte(0), false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case in != 0 && c == in:
			in = 0
		case in == 0 && c == '\'':
			in, quoted = c, true
		case in == 0 && c == ' ':
			if cur.Len() > 0 || quoted {
				words = append(words, cur.String())
			}
			cur.Reset()
			quoted = false
		default:
			cur.WriteByte(c)
		}
	}
	if cur.Len() > 0 || quoted {
		words = append(words, cur.String())
	}
	return words
}

func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

func sortedLines(s string) string {
	l := nonEmptyLines(s)
	sort.Strings(l)
	return strings.Join(l, "\n")
}

func trimLines(s string) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range ls {
		ls[i] = strings.TrimRight(ls[i], " \t")
	}
	return strings.Join(ls, "\n")
}

// columns is a table header's column names, one space apart.
func columns(header string) string {
	return strings.Join(regexp.MustCompile(`\s{2,}|\t`).Split(strings.TrimSpace(header), -1), " ")
}

// shapeMasks replace what differs between two stores and two runs: IDs,
// digests, times, sizes, host ports; and podman's "localhost/" before a
// name it gave an imported image (sandbox and docker name it as given).
var shapeMasks = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`localhost/`), ""},
	{regexp.MustCompile(`\b[0-9a-f]{64}\b`), "<id>"},
	{regexp.MustCompile(`\b[0-9a-f]{12}\b`), "<short>"},
	{regexp.MustCompile(`\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?( [A-Z]{3,4})?`), "<time>"},
	{regexp.MustCompile(`(Less than a second|About an? \w+|\d+ (second|minute|hour|day|week|month|year)s?)`), "<ago>"},
	{regexp.MustCompile(`\d+(\.\d+)? ?(B|kB|MB|GB)\b`), "<size>"},
	{regexp.MustCompile(`:\d{2,5}->`), ":<port>->"},
	{regexp.MustCompile(`(0\.0\.0\.0|\[::\]):\d{2,5}\b`), "<host>:<port>"},
}

func maskShape(s string) string {
	s = trimLines(s)
	for _, m := range shapeMasks {
		s = m.re.ReplaceAllString(s, m.with)
	}
	return s
}

// jsonKeys are the keys of a JSON object, or of an array's first element.
func jsonKeys(s string) (map[string]bool, error) {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		// One object per line (events --format json).
		first, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
		if err2 := json.Unmarshal([]byte(first), &v); err2 != nil {
			return nil, fmt.Errorf("not JSON: %w: %q", err, s)
		}
	}
	if a, ok := v.([]any); ok {
		if len(a) == 0 {
			return map[string]bool{}, nil
		}
		v = a[0]
	}
	o, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("not an object: %q", s)
	}
	keys := map[string]bool{}
	for k := range o {
		keys[k] = true
	}
	return keys, nil
}
