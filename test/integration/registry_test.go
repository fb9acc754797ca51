package integration

// Rootless integration tests of registry configuration: credentials from
// auth.json (--authfile, REGISTRY_AUTH_FILE, the default place) and
// registries.conf (a mirror), against docker-registry on loopback.

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestRegistryAuth(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	htpasswd := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(htpasswd, []byte("tester:"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr, stop, err := registry(dir, htpasswd)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	auth := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, addr, base64.StdEncoding.EncodeToString([]byte("tester:s3cret")))
	authFile := filepath.Join(dir, "auth.json")
	if err := os.WriteFile(authFile, []byte(auth), 0o600); err != nil {
		t.Fatal(err)
	}
	ref := addr + "/auth/busybox:1"
	ok(t, "tag", "busybox", ref)
	r := sb(t, "push", "-q", ref)
	if r.code != 125 || !strings.Contains(strings.ToLower(r.stderr), "auth") {
		t.Fatalf("push without credentials: want a refusal naming authentication: %s", r)
	}
	ok(t, "push", "-q", "--authfile", authFile, ref)
	ok(t, "rmi", ref)
	fails(t, 125, []string{ref}, "pull", "-q", ref)
	// REGISTRY_AUTH_FILE, as podman reads it.
	if r := sbWith(t, cmdOpts{env: []string{"REGISTRY_AUTH_FILE=" + authFile}}, "pull", "-q", ref); r.code != 0 {
		t.Fatalf("pull with REGISTRY_AUTH_FILE: %s", r)
	}
	ok(t, "rmi", ref)
	// The default place: $XDG_RUNTIME_DIR/containers/auth.json.
	rt := freshRuntime(t)
	xdg := strings.TrimPrefix(rt[0], "XDG_RUNTIME_DIR=")
	if err := os.MkdirAll(filepath.Join(xdg, "containers"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(xdg, "containers", "auth.json"), []byte(auth), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := sbWith(t, cmdOpts{env: rt}, "pull", "-q", ref); r.code != 0 {
		t.Fatalf("pull with auth.json in XDG_RUNTIME_DIR: %s", r)
	}
	ok(t, "rmi", ref)
}

func TestRegistriesConfMirror(t *testing.T) {
	t.Parallel()
	ok(t, "tag", "busybox", env.registry+"/mirrored/busybox:1")
	ok(t, "push", "-q", env.registry+"/mirrored/busybox:1")
	conf := filepath.Join(t.TempDir(), "registries.conf")
	body := fmt.Sprintf("[[registry]]\nlocation = \"mirror-test.invalid\"\n[[registry.mirror]]\nlocation = %q\ninsecure = true\n", env.registry)
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	r := sbWith(t, cmdOpts{env: []string{"CONTAINERS_REGISTRIES_CONF=" + conf}}, "pull", "-q", "mirror-test.invalid/mirrored/busybox:1")
	if r.code != 0 {
		t.Fatalf("pull through a registries.conf mirror: %s", r)
	}
	if got := run(t, "mirror-test.invalid/mirrored/busybox:1", "echo", "mirrored"); got != "mirrored\n" {
		t.Errorf("got %q", got)
	}
	fails(t, 125, []string{"mirror-test.invalid"}, "pull", "-q", "mirror-test.invalid/mirrored/busybox:1")
}
