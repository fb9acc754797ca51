package integration

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// dockerCompose is Debian's docker-compose 1.29, which hack/setup.sh
// installs.
const dockerCompose = "/usr/bin/docker-compose"

// tool runs a client (the docker CLI, docker-compose) against the
// service in dir, with the classic builder.
func (s *apiService) tool(t *testing.T, dir, bin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DOCKER_HOST=unix://"+s.sock, "DOCKER_CONFIG="+t.TempDir(), "DOCKER_BUILDKIT=0")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{args: append([]string{"(" + filepath.Base(bin) + ")"}, args...), stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		r.code = -1
		r.stderr += err.Error()
	}
	if ctx.Err() != nil {
		r.code = -1
		r.stderr += "\n(timed out)"
	}
	return r
}

func (s *apiService) toolOK(t *testing.T, dir, bin string, args ...string) string {
	t.Helper()
	r := s.tool(t, dir, bin, args...)
	if r.code != 0 {
		t.Fatalf("%s\nservice log:\n%s", r, s.logs)
	}
	return r.stdout
}

// TestAPIVolumesNetworks: docker volume and network commands, and
// containers on a user-defined network that find each other by name.
func TestAPIVolumesNetworks(t *testing.T) {
	needDockerCLI(t)
	s := startService(t, "0")
	t.Run("volumes", func(t *testing.T) {
		if out := s.dockerOK(t, "volume", "create", "--label", "k=v", "apivol"); out != "apivol\n" {
			t.Errorf("volume create: %q", out)
		}
		if out := s.dockerOK(t, "volume", "ls", "--format", "{{.Driver}} {{.Name}}", "--filter", "label=k=v"); out != "local apivol\n" {
			t.Errorf("volume ls: %q", out)
		}
		out := s.dockerOK(t, "volume", "inspect", "--format", "{{.Name}} {{.Driver}} {{.Labels.k}} {{.Mountpoint}}", "apivol")
		if !strings.HasPrefix(out, "apivol local v /") || !strings.HasSuffix(out, "/volumes/apivol/_data\n") {
			t.Errorf("volume inspect: %q", out)
		}
		// The volume outlives the container that wrote to it.
		s.dockerOK(t, "run", "--name", "apivolw", "-v", "apivol:/data", "-v", "/anon", "busybox", "sh", "-c", "echo kept > /data/f")
		if out := s.dockerOK(t, "run", "--rm", "--mount", "type=volume,src=apivol,dst=/d,readonly", "busybox", "cat", "/d/f"); out != "kept\n" {
			t.Errorf("the volume through a mount: %q", out)
		}
		if out := s.dockerOK(t, "system", "df", "-v", "--format", "{{range .Volumes}}{{.Name}} {{.Links}}\n{{end}}"); !strings.Contains(out, "apivol 1\n") {
			t.Errorf("system df -v: no apivol used once in %q", out)
		}
		r := s.docker(t, "", "volume", "rm", "apivol")
		if r.code != 1 || !strings.Contains(r.stderr, "being used") {
			t.Errorf("volume rm of a volume in use:\n%s", r)
		}
		if r := s.docker(t, "", "volume", "rm", "-f", "apivol"); r.code != 1 || !strings.Contains(r.stderr, "being used") {
			t.Errorf("volume rm -f of a volume in use: docker refuses it too:\n%s", r)
		}
		s.dockerOK(t, "volume", "rm", "-f", "nosuchvolume")
		anon := strings.Fields(s.dockerOK(t, "volume", "ls", "-q", "--filter", "dangling=false"))
		s.dockerOK(t, "rm", "-v", "apivolw")
		for _, v := range anon {
			if v != "apivol" {
				if r := s.docker(t, "", "volume", "inspect", v); r.code == 0 {
					t.Errorf("rm -v kept the anonymous volume %s", v)
				}
			}
		}
		s.dockerOK(t, "volume", "rm", "apivol")
		r = s.docker(t, "", "volume", "inspect", "apivol")
		if r.code != 1 || !strings.Contains(strings.ToLower(r.stderr), "no such volume") {
			t.Errorf("inspect of a removed volume:\n%s", r)
		}
		s.dockerOK(t, "volume", "create", "apiprune")
		if out := s.dockerOK(t, "volume", "prune", "-f"); !strings.Contains(out, "apiprune") {
			t.Errorf("volume prune: %q", out)
		}
	})
	t.Run("refused", func(t *testing.T) {
		for _, c := range []struct{ method, path, body, want string }{
			{"POST", "/volumes/create", `{"Name":"x","Driver":"nfs"}`, "volume driver"},
			{"POST", "/volumes/create", `{"Name":"bad/name"}`, "invalid volume name"},
			{"POST", "/networks/create", `{"Name":"x6","EnableIPv6":true}`, "IPv6"},
			{"POST", "/networks/create", `{"Name":"xo","Driver":"overlay"}`, "overlay"},
			{"POST", "/containers/create", `{"Image":"busybox","HostConfig":{"Mounts":[{"Type":"volume","Target":"/v","VolumeOptions":{"NoCopy":true}}]}}`, "NoCopy"},
			{"POST", "/containers/create", `{"Image":"busybox","HostConfig":{"NetworkMode":"nosuchnet"}}`, "network nosuchnet not found"},
			{"POST", "/build?remote=https://example.com/x.git", "", "remote"},
		} {
			code, body := s.request(t, c.method, c.path, c.body)
			if code != 400 || !strings.Contains(body, c.want) {
				t.Errorf("%s %s %s: %d %s, want 400 naming %q", c.method, c.path, c.body, code, body, c.want)
			}
		}
		for _, p := range []string{"/volumes/nosuch", "/networks/nosuch"} {
			if code, body := s.request(t, "GET", p, ""); code != 404 {
				t.Errorf("GET %s: %d %s, want 404", p, code, body)
			}
		}
		if ids := containerIDs(t); len(ids) != 0 {
			t.Errorf("containers left by refused requests: %v", ids)
		}
	})
	t.Run("networks", func(t *testing.T) {
		id := strings.TrimSpace(s.dockerOK(t, "network", "create", "--subnet", "10.89.77.0/24", "--label", "k=v", "apinet"))
		t.Cleanup(func() { s.docker(t, "", "network", "rm", "apinet") })
		if len(id) != 64 {
			t.Errorf("network create printed %q, want an id", id)
		}
		if r := s.docker(t, "", "network", "create", "apinet"); r.code == 0 || !strings.Contains(r.stderr, "already exists") {
			t.Errorf("network create of a name in use:\n%s", r)
		}
		out := s.dockerOK(t, "network", "ls", "--format", "{{.Name}} {{.Driver}}")
		if !strings.Contains(out, "bridge bridge\n") || !strings.Contains(out, "apinet bridge\n") {
			t.Errorf("network ls: %q", out)
		}
		s.dockerOK(t, "run", "-d", "--name", "apiweb", "--network", "apinet", "--network-alias", "www", "--ip", "10.89.77.50", "busybox",
			"sh", "-c", "echo by-name > /tmp/index.html; exec httpd -f -p 80 -h /tmp")
		t.Cleanup(func() { s.docker(t, "", "rm", "-f", "apiweb") })
		for _, host := range []string{"apiweb", "www"} {
			out := s.dockerOK(t, "run", "--rm", "--network", "apinet", "busybox", "sh", "-c",
				"for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://"+host+"/index.html && exit 0; sleep 0.3; done; exit 1")
			if out != "by-name\n" {
				t.Errorf("fetch from %s: %q", host, out)
			}
		}
		out = s.dockerOK(t, "network", "inspect", "--format", `{{range .IPAM.Config}}{{.Subnet}}{{end}} {{range .Containers}}{{.Name}} {{.IPv4Address}}{{end}}`, "apinet")
		if out != "10.89.77.0/24 apiweb 10.89.77.50/24\n" {
			t.Errorf("network inspect: %q", out)
		}
		out = s.dockerOK(t, "inspect", "--format", `{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{$v.IPAddress}} {{$v.Aliases}}{{end}}`, "apiweb")
		if !strings.HasPrefix(out, "apinet 10.89.77.50 [www ") {
			t.Errorf("inspect's networks: %q", out)
		}
		if r := s.docker(t, "", "network", "rm", "apinet"); r.code == 0 {
			t.Errorf("network rm of a network in use:\n%s", r)
		}
		// A stopped container joins and leaves a second network.
		s.dockerOK(t, "network", "create", "apinet2")
		t.Cleanup(func() { s.docker(t, "", "network", "rm", "apinet2") })
		s.dockerOK(t, "create", "--name", "apiconn", "--network", "apinet", "busybox", "true")
		t.Cleanup(func() { s.docker(t, "", "rm", "-f", "apiconn") })
		s.dockerOK(t, "network", "connect", "--alias", "second", "apinet2", "apiconn")
		if out := s.dockerOK(t, "network", "inspect", "--format", "{{range .Containers}}{{.Name}}{{end}}", "apinet2"); out != "apiconn\n" {
			t.Errorf("after connect: %q", out)
		}
		s.dockerOK(t, "network", "disconnect", "apinet2", "apiconn")
		if out := s.dockerOK(t, "network", "inspect", "--format", "{{len .Containers}}", "apinet2"); out != "0\n" {
			t.Errorf("after disconnect: %q", out)
		}
		// A running container joins at once, and is found there by a
		// member of that network alone.
		s.dockerOK(t, "network", "connect", "--alias", "late", "apinet2", "apiweb")
		out = s.dockerOK(t, "run", "--rm", "--network", "apinet2", "busybox", "sh", "-c",
			"for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://late/index.html && exit 0; sleep 0.3; done; exit 1")
		if out != "by-name\n" {
			t.Errorf("fetch from a running container connected to a second network: %q", out)
		}
		s.dockerOK(t, "network", "disconnect", "apinet2", "apiweb")
		// (The --rm client's removal may still be under way: only
		// apiweb is looked for.)
		if out := s.dockerOK(t, "network", "inspect", "--format", "{{range .Containers}}{{.Name}} {{end}}", "apinet2"); strings.Contains(out, "apiweb") {
			t.Errorf("after disconnect of the running container: %q", out)
		}
		s.dockerOK(t, "rm", "-f", "apiconn", "apiweb")
		s.dockerOK(t, "network", "rm", "apinet", "apinet2")
		s.dockerOK(t, "network", "create", "apiprunenet")
		if out := s.dockerOK(t, "network", "prune", "-f"); !strings.Contains(out, "apiprunenet") {
			t.Errorf("network prune: %q", out)
		}
		if r := s.docker(t, "", "network", "inspect", "apinet"); r.code != 1 || !strings.Contains(r.stderr, "No such network") {
			t.Errorf("inspect of a removed network:\n%s", r)
		}
		if r := s.docker(t, "", "run", "--rm", "--network", "nosuchnet", "busybox", "true"); r.code != 125 || !strings.Contains(r.stderr, "network nosuchnet not found") {
			t.Errorf("run on a network that is not there:\n%s", r)
		}
		if ids := containerIDs(t); len(ids) != 0 {
			t.Errorf("containers left: %v", ids)
		}
	})
}

// TestAPIFiles: docker cp both ways, export, diff, commit, build and
// history.
func TestAPIFiles(t *testing.T) {
	needDockerCLI(t)
	s := startService(t, "0")
	dir := t.TempDir()
	s.dockerOK(t, "run", "-d", "--name", "apifiles", "busybox", "sh", "-c", "echo made > /made; rm /bin/vi; trap 'exit 0' TERM; while :; do sleep 0.1; done")
	t.Cleanup(func() { s.docker(t, "", "rm", "-f", "apifiles") })
	if err := os.WriteFile(filepath.Join(dir, "in.txt"), []byte("copied in\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "tree", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tree", "sub", "leaf"), []byte("leaf\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("cp", func(t *testing.T) {
		s.toolOK(t, dir, dockerCLI, "cp", "in.txt", "apifiles:/tmp/")
		s.toolOK(t, dir, dockerCLI, "cp", "tree", "apifiles:/tmp/tree")
		if out := s.dockerOK(t, "exec", "apifiles", "cat", "/tmp/in.txt", "/tmp/tree/sub/leaf"); out != "copied in\nleaf\n" {
			t.Errorf("after cp in: %q", out)
		}
		s.toolOK(t, dir, dockerCLI, "cp", "apifiles:/made", "out.txt")
		s.toolOK(t, dir, dockerCLI, "cp", "apifiles:/tmp/tree", "back")
		for file, want := range map[string]string{"out.txt": "made\n", "back/sub/leaf": "leaf\n"} {
			if data, err := os.ReadFile(filepath.Join(dir, file)); err != nil || string(data) != want {
				t.Errorf("cp out: %s: %q, %v", file, data, err)
			}
		}
		if r := s.tool(t, dir, dockerCLI, "cp", "apifiles:/nosuch", "x"); r.code == 0 || !strings.Contains(r.stderr, "No such container:path: apifiles:/nosuch") {
			t.Errorf("cp of a path that is not there:\n%s", r)
		}
	})
	t.Run("export-diff", func(t *testing.T) {
		r := s.docker(t, "", "export", "apifiles")
		if r.code != 0 {
			t.Fatalf("%s", r)
		}
		names := map[string]bool{}
		tr := tar.NewReader(strings.NewReader(r.stdout))
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("export: not a tar: %v", err)
			}
			names[strings.TrimPrefix(h.Name, "./")] = true
		}
		if !names["made"] || !names["bin/sh"] || names["bin/vi"] {
			t.Errorf("export: want made and bin/sh, not bin/vi; %d entries", len(names))
		}
		out := s.dockerOK(t, "diff", "apifiles")
		for _, want := range []string{"A /made\n", "D /bin/vi\n", "C /bin\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("diff: no %q in %q", want, out)
			}
		}
	})
	t.Run("commit", func(t *testing.T) {
		id := strings.TrimSpace(s.dockerOK(t, "commit", "-c", "CMD [\"cat\", \"/made\"]", "-m", "snapshot", "apifiles", "apisnap:1"))
		t.Cleanup(func() { s.docker(t, "", "rmi", "apisnap:1") })
		if !strings.HasPrefix(id, "sha256:") {
			t.Errorf("commit printed %q", id)
		}
		if out := s.dockerOK(t, "run", "--rm", "apisnap:1"); out != "made\n" {
			t.Errorf("run of the committed image: %q", out)
		}
		out := s.dockerOK(t, "history", "--format", "{{.CreatedBy}}|{{.Comment}}", "--no-trunc", "apisnap:1")
		if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) < 2 || !strings.HasSuffix(lines[0], "|snapshot") {
			t.Errorf("history: want the commit on top of the image's steps: %q", out)
		}
	})
	t.Run("build", func(t *testing.T) {
		ctxDir := filepath.Join(dir, "ctx")
		if err := os.MkdirAll(ctxDir, 0o755); err != nil {
			t.Fatal(err)
		}
		df := "FROM busybox AS base\nARG WHO=nobody\nRUN echo \"hello $WHO\" > /greeting\nFROM base\nCOPY note.txt /note.txt\nCMD [\"cat\", \"/greeting\", \"/note.txt\"]\n"
		for name, data := range map[string]string{"Dockerfile": df, "note.txt": "a note\n", "Bad": "FROM busybox\nRUN exit 7\n"} {
			if err := os.WriteFile(filepath.Join(ctxDir, name), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		out := s.toolOK(t, ctxDir, dockerCLI, "build", "-t", "apibuilt:1", "--build-arg", "WHO=api", "--label", "built=yes", ".")
		t.Cleanup(func() { s.docker(t, "", "rmi", "apibuilt:1") })
		if !strings.Contains(out, "RUN echo") || !strings.Contains(out, "Successfully tagged") {
			t.Errorf("build output: %q", out)
		}
		if out := s.dockerOK(t, "run", "--rm", "apibuilt:1"); out != "hello api\na note\n" {
			t.Errorf("run of the built image: %q", out)
		}
		if out := s.dockerOK(t, "image", "inspect", "--format", "{{.Config.Labels.built}}", "apibuilt:1"); out != "yes\n" {
			t.Errorf("the build's label: %q", out)
		}
		if out := s.dockerOK(t, "history", "-q", "apibuilt:1"); len(strings.Fields(out)) < 4 {
			t.Errorf("history: want an entry per step: %q", out)
		}
		id := strings.TrimSpace(s.toolOK(t, ctxDir, dockerCLI, "build", "-q", "--target", "base", "."))
		if !strings.HasPrefix(id, "sha256:") {
			t.Errorf("build -q: %q", id)
		}
		if out := s.dockerOK(t, "run", "--rm", id, "cat", "/greeting"); out != "hello nobody\n" {
			t.Errorf("build --target base: %q", out)
		}
		r := s.tool(t, ctxDir, dockerCLI, "build", "-f", "Bad", ".")
		if r.code != 7 || !strings.Contains(r.stderr, "exit") {
			t.Errorf("a failed RUN: want exit 7 and the error:\n%s", r)
		}
	})
	s.dockerOK(t, "rm", "-f", "apifiles")
	if ids := containerIDs(t); len(ids) != 0 {
		t.Errorf("containers left (build containers included): %v", ids)
	}
}

// composeFile is a two-service project: a busybox httpd serving from a
// named volume, and a client that fetches from it by service name.
const composeFile = `version: "3.7"
services:
  web:
    image: busybox
    command: ["sh", "-c", "echo served > /data/index.html; exec httpd -f -v -p 80 -h /data"]
    volumes:
      - data:/data
  client:
    image: busybox
    command: ["sh", "-c", "for i in $$(seq 1 30); do wget -qO- http://web/index.html && break; sleep 0.3; done; echo fetched; exec sleep 86400"]
    depends_on: [web]
volumes:
  data:
`

// TestAPICompose: docker-compose 1.29 up, ps, logs, exec and down -v.
func TestAPICompose(t *testing.T) {
	if _, err := os.Stat(dockerCompose); err != nil {
		notHere(t, "Debian's docker-compose is not installed (hack/setup.sh installs it)")
	}
	s := startService(t, "0")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "docker-compose.yml"), []byte(composeFile), 0o644); err != nil {
		t.Fatal(err)
	}
	compose := func(args ...string) string {
		t.Helper()
		return s.toolOK(t, dir, dockerCompose, append([]string{"-p", "apicomp"}, args...)...)
	}
	t.Cleanup(func() { s.tool(t, dir, dockerCompose, "-p", "apicomp", "down", "-v", "-t", "1") })
	compose("up", "-d")
	out := compose("ps")
	for _, want := range []string{"apicomp_web_1", "apicomp_client_1", "Up"} {
		if !strings.Contains(out, want) {
			t.Errorf("compose ps: no %q in %q", want, out)
		}
	}
	eventually(t, 20*time.Second, func() error {
		if out := compose("logs", "--no-color", "client"); !strings.Contains(out, "served\n") || !strings.Contains(out, "fetched") {
			return errors.New("compose logs client: " + out)
		}
		return nil
	})
	if out := compose("exec", "-T", "client", "wget", "-qO-", "http://web/index.html"); out != "served\n" {
		t.Errorf("compose exec: %q", out)
	}
	if out := s.dockerOK(t, "volume", "ls", "-q"); !strings.Contains(out, "apicomp_data") {
		t.Errorf("the project's volume: %q", out)
	}
	compose("down", "-v", "-t", "1")
	if out := s.dockerOK(t, "volume", "ls", "-q"); strings.Contains(out, "apicomp_data") {
		t.Errorf("down -v kept the volume: %q", out)
	}
	if out := s.dockerOK(t, "network", "ls", "--format", "{{.Name}}"); strings.Contains(out, "apicomp") {
		t.Errorf("down kept the network: %q", out)
	}
	if ids := containerIDs(t); len(ids) != 0 {
		t.Errorf("containers left: %v", ids)
	}
}
