// Package testcontainers drives sandbox's Docker API service with
// testcontainers-go, as a CI test suite would: a module of its own, so
// that sandbox's module does not depend on it. The integration tests
// (test/integration/api_test.go) build this test binary's run against a
// service they start (DOCKER_HOST), with Ryuk disabled
// (TESTCONTAINERS_RYUK_DISABLED=true): its image would come from the
// internet. Privilege tier: rootless integration.
package testcontainers

import (
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

// TestBusyboxHTTPD starts busybox's httpd, waits for its log line and its
// port, runs an exec, and terminates the container.
func TestBusyboxHTTPD(t *testing.T) {
	if os.Getenv("DOCKER_HOST") == "" || os.Getenv("TESTCONTAINERS_HOST_OVERRIDE") == "" {
		t.Fatal("DOCKER_HOST and TESTCONTAINERS_HOST_OVERRIDE are not set: run through the integration tests (TestAPITestcontainers)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	req := testcontainers.ContainerRequest{
		Image:        "busybox:latest",
		Cmd:          []string{"sh", "-c", "mkdir -p /www && echo it-works >/www/index.html && echo httpd-starting && httpd -f -p 8080 -h /www & trap 'kill $!; exit 0' TERM; wait"},
		ExposedPorts: []string{"8080/tcp"},
		WaitingFor: wait.ForAll(
			wait.ForLog("httpd-starting"),
			wait.ForHTTP("/").WithPort("8080/tcp").WithStartupTimeout(60*time.Second),
		),
	}
	c, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{ContainerRequest: req, Started: true})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	defer func() {
		if err := testcontainers.TerminateContainer(c); err != nil {
			t.Errorf("terminate: %v", err)
		}
	}()
	host, err := c.Host(ctx)
	if err != nil {
		t.Fatal(err)
	}
	port, err := c.MappedPort(ctx, "8080/tcp")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + host + ":" + port.Port() + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || strings.TrimSpace(string(body)) != "it-works" {
		t.Errorf("GET /: %q, %v", body, err)
	}
	code, out, err := c.Exec(ctx, []string{"sh", "-c", "echo exec-out; exit 3"})
	if err != nil {
		t.Fatalf("exec: %v", err)
	}
	data, err := io.ReadAll(out)
	if err != nil {
		t.Fatal(err)
	}
	if code != 3 || !strings.Contains(string(data), "exec-out") {
		t.Errorf("exec: exit %d, output %q; want 3 and exec-out", code, data)
	}
}
