package integration

// Named and anonymous volumes (privilege tier: rootless integration):
// their life apart from containers, first-use copy, ownership, removal
// while in use, prune, and bad input, compared with podman where the
// output is podman's.

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// volumeNames lists the volumes of this run's store.
func volumeNames(t *testing.T) map[string]bool {
	t.Helper()
	m := map[string]bool{}
	for _, n := range strings.Fields(ok(t, "volume", "ls", "-q")) {
		m[n] = true
	}
	return m
}

func TestVolumeCommands(t *testing.T) {
	t.Parallel()
	p := newReference(t)
	if out := ok(t, "volume", "create", "--label", "tier=it", "--opt", "o=bind", "vcmd"); out != "vcmd\n" {
		t.Errorf("volume create printed %q", out)
	}
	p.ok(t, "volume", "create", "--label", "tier=it", "--opt", "o=bind", "vcmd")
	t.Cleanup(func() { sbRaw(nil, "volume", "rm", "-f", "vcmd") })

	// inspect: podman's keys, and the values that do not depend on the store.
	var got, want []map[string]any
	if err := json.Unmarshal([]byte(ok(t, "volume", "inspect", "vcmd")), &got); err != nil || len(got) != 1 {
		t.Fatalf("volume inspect: %v %v", got, err)
	}
	if err := json.Unmarshal([]byte(p.ok(t, "volume", "inspect", "vcmd")), &want); err != nil || len(want) != 1 {
		t.Fatalf("podman volume inspect: %v %v", want, err)
	}
	for _, k := range []string{"Name", "Driver", "Mountpoint", "CreatedAt", "Labels", "Scope", "Options"} {
		if _, has := got[0][k]; !has {
			t.Errorf("volume inspect has no %s: %v", k, got[0])
		}
	}
	for _, k := range []string{"Name", "Driver", "Scope", "Labels", "Options"} {
		g, _ := json.Marshal(got[0][k])
		w, _ := json.Marshal(want[0][k])
		if string(g) != string(w) {
			t.Errorf("volume inspect %s = %s, podman's %s", k, g, w)
		}
	}
	if mp, _ := got[0]["Mountpoint"].(string); mp != env.root+"/volumes/vcmd/_data" {
		t.Errorf("Mountpoint %q, want under the store", mp)
	}
	if out := ok(t, "volume", "inspect", "--format", "{{.Name}} {{.Driver}} {{index .Labels \"tier\"}}", "vcmd"); out != "vcmd local it\n" {
		t.Errorf("volume inspect --format printed %q", out)
	}

	// ls: the table's header and rows as podman's, quiet and filters.
	ls := ok(t, "volume", "ls", "--filter", "name=^vcmd$")
	if lines := strings.Split(strings.TrimSpace(ls), "\n"); len(lines) != 2 || strings.Join(strings.Fields(lines[0]), " ") != "DRIVER VOLUME NAME" ||
		strings.Join(strings.Fields(lines[1]), " ") != "local vcmd" {
		t.Errorf("volume ls printed:\n%s", ls)
	}
	if !volumeNames(t)["vcmd"] {
		t.Error("volume ls -q does not list vcmd")
	}
	if out := ok(t, "volume", "ls", "-q", "--filter", "label=tier=it", "--filter", "dangling=true", "--filter", "name=vcmd"); out != "vcmd\n" {
		t.Errorf("volume ls with filters printed %q", out)
	}
	if out := ok(t, "volume", "ls", "-q", "--filter", "label=tier=other", "--filter", "name=vcmd"); out != "" {
		t.Errorf("volume ls --filter label=tier=other printed %q", out)
	}
	if out := ok(t, "volume", "ls", "--filter", "name=^vcmd$", "--format", "{{.Name}}:{{.Driver}}"); out != "vcmd:local\n" {
		t.Errorf("volume ls --format printed %q", out)
	}

	// exists, and a name made up when none is given.
	ok(t, "volume", "exists", "vcmd")
	if r := sb(t, "volume", "exists", "vcmd-none"); r.code != 1 {
		t.Errorf("volume exists of no volume: %s", r)
	}
	anon := strings.TrimSpace(ok(t, "volume", "create"))
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(anon) {
		t.Errorf("volume create without a name printed %q, want 64 hex digits", anon)
	}
	if out := ok(t, "volume", "rm", anon); out != anon+"\n" {
		t.Errorf("volume rm printed %q", out)
	}

	// Bad input: the exit codes and words of podman.
	for _, tc := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"volume", "create", "vcmd"}, 125, []string{"vcmd", "already exists"}},
		{[]string{"volume", "create", "bad/name"}, 125, []string{"bad/name", "[a-zA-Z0-9][a-zA-Z0-9_.-]*"}},
		{[]string{"volume", "create", "--driver", "other", "vcmd2"}, 125, []string{"other"}},
		{[]string{"volume", "rm", "vcmd-none"}, 1, []string{"vcmd-none", "no such volume"}},
		{[]string{"volume", "inspect", "vcmd-none"}, 125, []string{"no such volume vcmd-none"}},
	} {
		fails(t, tc.code, tc.want, tc.args...)
		if r := p.run(tc.args...); r.code != tc.code {
			t.Errorf("podman exits %d, sandbox %d: %s", r.code, tc.code, r)
		}
	}
	if volumeNames(t)["vcmd2"] {
		t.Error("a refused volume create left a volume")
	}
}

// TestVolumeOutlivesAndShared: a volume outlives its container and is
// shared by two at once.
func TestVolumeOutlivesAndShared(t *testing.T) {
	t.Parallel()
	t.Cleanup(func() { sbRaw(nil, "volume", "rm", "-f", "vshare") })
	id := detached(t, "-v", "vshare:/shared", "busybox", "sh", "-c", "echo one > /shared/f; sleep 60")
	eventually(t, 10e9, func() error {
		if r := sb(t, "run", "--rm", "--mount", "type=volume,src=vshare,dst=/s,ro", "busybox", "cat", "/s/f"); r.code != 0 || r.stdout != "one\n" {
			return fmt.Errorf("the second container sees %s", r)
		}
		return nil
	})
	// The second container writes; the first sees it.
	run(t, "-v", "vshare:/shared", "busybox", "sh", "-c", "echo two >> /shared/f")
	if out := ok(t, "exec", id, "cat", "/shared/f"); out != "one\ntwo\n" {
		t.Errorf("the first container sees %q", out)
	}
	var mounts []struct{ Type, Name, Source, Destination, Driver string }
	if err := json.Unmarshal([]byte(ok(t, "inspect", "--format", "{{json .Mounts}}", id)), &mounts); err != nil {
		t.Fatal(err)
	}
	if len(mounts) != 1 || mounts[0].Type != "volume" || mounts[0].Name != "vshare" || mounts[0].Destination != "/shared" ||
		mounts[0].Driver != "local" || mounts[0].Source != env.root+"/volumes/vshare/_data" {
		t.Errorf("inspect Mounts = %+v", mounts)
	}
	ok(t, "rm", "-f", "-v", id) // -v removes anonymous volumes only
	if out := run(t, "-v", "vshare:/x", "busybox", "cat", "/x/f"); out != "one\ntwo\n" {
		t.Errorf("after its containers are gone the volume holds %q", out)
	}
}

// TestVolumeFirstUse: a volume's first use copies the image's content at
// the mount point in, owners kept; later uses copy nothing; an empty
// first use belongs to the container's user (-u 1000 writes).
func TestVolumeFirstUse(t *testing.T) {
	t.Parallel()
	t.Cleanup(func() { sbRaw(nil, "volume", "rm", "-f", "vetc", "vuser", "vuser2") })
	out := run(t, "-v", "vetc:/etc", "busybox", "sh", "-c", "ls -ln /etc/passwd; rm /etc/group")
	if f := strings.Fields(out); len(f) < 4 || f[2] != "0" || f[3] != "0" {
		t.Errorf("the copied /etc/passwd: %q, want owned by 0:0", out)
	}
	if r := sb(t, "run", "--rm", "-v", "vetc:/etc", "busybox", "ls", "/etc/group"); r.code == 0 {
		t.Error("a later use copied the image's content again")
	}
	if out := run(t, "-u", "1000:1000", "-v", "vuser:/data", "busybox", "sh", "-c", "echo hi > /data/mine && ls -ln /data/mine"); !strings.Contains(out, " 1000 ") {
		t.Errorf("-u 1000 in a new volume: %q", out)
	}
	run(t, "-u", "1000", "--mount", "type=volume,source=vuser2,target=/data", "busybox", "touch", "/data/x")
	// The container's root writes too, and sees the user's file.
	if out := run(t, "-v", "vuser:/data", "busybox", "sh", "-c", "echo root >> /data/mine && cat /data/mine"); out != "hi\nroot\n" {
		t.Errorf("root in the volume read %q", out)
	}
}

// TestVolumeRemoveInUse: rm of a volume that a container (stopped here)
// uses is refused with podman's words and exit code; -f removes the
// container first.
func TestVolumeRemoveInUse(t *testing.T) {
	t.Parallel()
	p := newReference(t)
	p.withBusybox(t)
	id := strings.TrimSpace(ok(t, "create", "-v", "vinuse:/d", "busybox", "true"))
	t.Cleanup(func() { sbRaw(nil, "rm", "-f", id); sbRaw(nil, "volume", "rm", "-f", "vinuse") })
	r := fails(t, 2, []string{"volume vinuse is being used by the following container(s): " + id, "volume is being used"}, "volume", "rm", "vinuse")
	p.ok(t, "create", "-v", "vinuse:/d", "busybox", "true")
	pr := p.run("volume", "rm", "vinuse")
	re := regexp.MustCompile(`[0-9a-f]{64}`)
	if pr.code != r.code || re.ReplaceAllString(pr.stderr, "ID") != re.ReplaceAllString(r.stderr, "ID") {
		t.Errorf("podman: %s\nsandbox: %s", pr, r)
	}
	if !volumeNames(t)["vinuse"] {
		t.Fatal("a refused rm removed the volume")
	}
	if out := ok(t, "volume", "rm", "-f", "vinuse"); out != "vinuse\n" {
		t.Errorf("volume rm -f printed %q", out)
	}
	if strings.Contains(ok(t, "ps", "-aq", "--no-trunc"), id) {
		t.Error("volume rm -f left the container that used it")
	}
}

// TestVolumePrune: prune removes what no container uses, running or not.
func TestVolumePrune(t *testing.T) {
	// Not parallel: prune sees every test's volumes.
	ok(t, "volume", "create", "vprune-free")
	id := strings.TrimSpace(ok(t, "create", "-v", "vprune-used:/d", "busybox", "true"))
	defer sbRaw(nil, "rm", "-f", id)
	defer sbRaw(nil, "volume", "rm", "-f", "vprune-used")
	out := ok(t, "volume", "prune", "-f")
	if !strings.Contains(out, "vprune-free\n") || strings.Contains(out, "vprune-used") {
		t.Errorf("volume prune printed %q", out)
	}
	names := volumeNames(t)
	if names["vprune-free"] || !names["vprune-used"] {
		t.Errorf("after prune: %v", names)
	}
	// Without -f it asks, and a no keeps everything.
	ok(t, "volume", "create", "vprune-asked")
	defer sbRaw(nil, "volume", "rm", "-f", "vprune-asked")
	if r := sbWith(t, cmdOpts{stdin: "n\n"}, "volume", "prune"); r.code != 0 || !volumeNames(t)["vprune-asked"] {
		t.Errorf("prune answered no: %s", r)
	}
}

// TestVolumeAnonymous: -v /PATH and an image's VOLUME get anonymous
// volumes, which rm keeps, rm -v removes, and run --rm removes.
func TestVolumeAnonymous(t *testing.T) {
	t.Parallel()
	imageWith(t, "vanon/img:1", `CMD ["sh"]`, "VOLUME /var/lib/data")
	id := strings.TrimSpace(ok(t, "create", "-v", "/scratch", "vanon/img:1", "true"))
	var mounts []struct{ Type, Name, Destination string }
	if err := json.Unmarshal([]byte(ok(t, "inspect", "--format", "{{json .Mounts}}", id)), &mounts); err != nil {
		t.Fatal(err)
	}
	var dsts, names []string
	for _, m := range mounts {
		if m.Type != "volume" || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(m.Name) {
			t.Errorf("mount %+v: want an anonymous volume", m)
		}
		dsts, names = append(dsts, m.Destination), append(names, m.Name)
	}
	sort.Strings(dsts)
	if strings.Join(dsts, ",") != "/scratch,/var/lib/data" {
		t.Errorf("anonymous volumes at %v", dsts)
	}
	for _, n := range names {
		if !volumeNames(t)[n] {
			t.Errorf("volume ls does not list %s", n)
		}
	}
	ok(t, "rm", "-v", id)
	all := volumeNames(t)
	for _, n := range names {
		if all[n] {
			t.Errorf("rm -v left the anonymous volume %s", n)
		}
	}
	// Without -v they stay, as docker's.
	id2 := strings.TrimSpace(ok(t, "create", "vanon/img:1", "true"))
	var kept []struct{ Name string }
	if err := json.Unmarshal([]byte(ok(t, "inspect", "--format", "{{json .Mounts}}", id2)), &kept); err != nil || len(kept) != 1 {
		t.Fatalf("inspect Mounts: %v %v", kept, err)
	}
	ok(t, "rm", id2)
	if !volumeNames(t)[kept[0].Name] {
		t.Error("rm without -v removed the anonymous volume")
	}
	ok(t, "volume", "rm", kept[0].Name)
	// run --rm removes them. Other tests make volumes meanwhile: this
	// container's are named by its inspect while it runs.
	id3 := strings.TrimSpace(ok(t, "run", "-d", "--rm", "-v", "/scratch", "vanon/img:1", "sleep", "1000"))
	var made []struct{ Name string }
	if err := json.Unmarshal([]byte(ok(t, "inspect", "--format", "{{json .Mounts}}", id3)), &made); err != nil || len(made) != 2 {
		t.Fatalf("inspect Mounts of the --rm container: %v %v", made, err)
	}
	ok(t, "stop", "-t", "0", id3)
	eventually(t, 10*time.Second, func() error {
		if r := sbRaw(nil, "container", "exists", id3); r.code == 0 {
			return fmt.Errorf("the --rm container is still there")
		}
		return nil
	})
	all = volumeNames(t)
	for _, m := range made {
		if all[m.Name] {
			t.Errorf("run --rm left the anonymous volume %s", m.Name)
		}
	}
}

// TestVolumeBadInput: one clear line, exit 125, nothing made.
func TestVolumeBadInput(t *testing.T) {
	t.Parallel()
	fails(t, 125, []string{"bad/x:/d", "volume name"}, "run", "--rm", "-v", "bad/x:/d", "busybox", "true")
	fails(t, 125, []string{"type=volume,src=a/b,dst=/d", "volume name"}, "run", "--rm", "--mount", "type=volume,src=a/b,dst=/d", "busybox", "true")
	fails(t, 125, []string{"U is for host directories"}, "run", "--rm", "-v", "vbad:/d:U", "busybox", "true")
	fails(t, 125, []string{"KEY=VALUE"}, "volume", "ls", "--filter", "dangling")
	fails(t, 125, []string{"the keys are"}, "volume", "ls", "--filter", "colour=red")
	// A run that fails before its container is made makes no volume.
	r := sb(t, "run", "--rm", "--pull", "never", "-v", "vbad-never:/d", "vbad/no-such-image:1", "true")
	if r.code == 0 {
		t.Fatalf("run of a missing image: %s", r)
	}
	// One that fails while it makes its volumes removes those it made.
	// Other tests make containers meanwhile: this one carries a label.
	const mark = "vbad-run=yes"
	r = sb(t, "run", "--rm", "--label", mark, "-v", "vbad-a:/a", "-v", "vbad-b:/etc/passwd/x", "busybox", "true")
	if r.code != 125 || !strings.Contains(r.stderr, "/etc/passwd/x") {
		t.Errorf("a volume under a file: %s", r)
	}
	names := volumeNames(t)
	for _, n := range []string{"vbad-never", "vbad-a", "vbad-b"} {
		if names[n] {
			t.Errorf("a failed run left the volume %s", n)
		}
	}
	if left := strings.Fields(ok(t, "ps", "-aq", "--filter", "label="+mark)); len(left) != 0 {
		t.Errorf("a failed run left a container: %v", left)
	}
}
