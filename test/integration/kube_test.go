package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// TestKubeRoundTrip: generate kube of a pod decodes strictly with the
// k8s.io/api types; play kube makes the pod again from it (containers
// named PODNAME-CONTAINERNAME, the port published); play kube --down
// leaves nothing.
func TestKubeRoundTrip(t *testing.T) {
	t.Parallel()
	port := freePorts(t, 1)[0]
	newPod(t, "pk-kube", "-p", fmt.Sprintf("127.0.0.1:%d:80", port))
	t.Cleanup(func() { sbRaw(nil, "volume", "rm", "-f", "pk-kube-vol") })
	detached(t, "--pod", "pk-kube", "--name", "pk-kube-web", "-e", "GREETING=hello-kube", "-w", "/tmp", "-v", "pk-kube-vol:/data", "busybox", "sh", "-c",
		"echo $GREETING > /tmp/index.html; echo kept > /data/f; exec httpd -f -p 80 -h /tmp")
	y := ok(t, "generate", "kube", "pk-kube")
	docs := strings.Split(y, "\n---\n")
	var p corev1.Pod
	if err := yaml.UnmarshalStrict([]byte(docs[0]), &p); err != nil {
		t.Fatalf("generate kube's Pod does not decode strictly: %v\n%s", err, y)
	}
	if p.Kind != "Pod" || p.Name != "pk-kube" || len(p.Spec.Containers) != 1 {
		t.Fatalf("pod %+v", p)
	}
	c := p.Spec.Containers[0]
	if c.Name != "web" || c.Image != "busybox" || c.WorkingDir != "/tmp" || len(c.Ports) != 1 ||
		c.Ports[0].HostPort != int32(port) || c.Ports[0].ContainerPort != 80 || c.Ports[0].HostIP != "127.0.0.1" {
		t.Errorf("container %+v", c)
	}
	if len(c.Env) != 1 || c.Env[0].Name != "GREETING" || c.Env[0].Value != "hello-kube" {
		t.Errorf("env %+v", c.Env)
	}
	if len(p.Spec.Volumes) != 1 || p.Spec.Volumes[0].PersistentVolumeClaim == nil || p.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != "pk-kube-vol" ||
		len(c.VolumeMounts) != 1 || c.VolumeMounts[0].MountPath != "/data" {
		t.Errorf("the named volume is not a persistentVolumeClaim: %+v %+v", p.Spec.Volumes, c.VolumeMounts)
	}
	svc := ok(t, "generate", "kube", "--service", "pk-kube")
	var s corev1.Service
	if parts := strings.Split(svc, "\n---\n"); len(parts) != 2 || yaml.UnmarshalStrict([]byte(parts[1]), &s) != nil || s.Kind != "Service" {
		t.Errorf("--service:\n%s", svc)
	}

	ok(t, "pod", "rm", "-f", "pk-kube")
	out := sbWith(t, cmdOpts{stdin: y}, "play", "kube", "-")
	if out.code != 0 || !strings.HasPrefix(out.stdout, "Pod:\n") {
		t.Fatalf("%s", out)
	}
	if names := ok(t, "ps", "--filter", "pod=pk-kube", "--format", "{{.Names}}"); !strings.Contains(names, "pk-kube-web\n") {
		t.Errorf("play kube's containers: %q", names)
	}
	eventually(t, 5*time.Second, func() error {
		body, err := get(fmt.Sprintf("http://127.0.0.1:%d/index.html", port))
		if err == nil && !strings.Contains(body, "hello-kube") {
			err = fmt.Errorf("body %q", body)
		}
		return err
	})
	if got := ok(t, "exec", "pk-kube-web", "cat", "/data/f"); got != "kept\n" {
		t.Errorf("the claimed volume holds %q", got)
	}
	if r := sbWith(t, cmdOpts{stdin: y}, "play", "kube", "-"); r.code != 125 || !strings.Contains(r.stderr, `pod "pk-kube" exists`) {
		t.Errorf("play kube of a pod that exists:\n%s", r)
	}
	if r := sbWith(t, cmdOpts{stdin: y}, "play", "kube", "--replace", "-"); r.code != 0 {
		t.Fatalf("%s", r)
	}
	if r := sbWith(t, cmdOpts{stdin: y}, "play", "kube", "--down", "-"); r.code != 0 || !strings.Contains(r.stdout, "Pods removed:") {
		t.Fatalf("%s", r)
	}
	if r := sb(t, "pod", "exists", "pk-kube"); r.code != 1 {
		t.Errorf("the pod is still there: %s", r)
	}
	if left := ok(t, "ps", "-a", "--filter", "name=pk-kube", "-q"); left != "" {
		t.Errorf("containers left: %s", left)
	}
}

// TestKubeBadInput: YAML that is not Kubernetes, an unsupported kind, an
// unknown or unsupported field: one line, exit 125, nothing made.
func TestKubeBadInput(t *testing.T) {
	t.Parallel()
	good := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: pk-kbad\nspec:\n  containers:\n  - name: c\n    image: busybox\n    command: [sleep, '60']\n"
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"not kubernetes", "services:\n  web:\n    image: busybox\n", []string{"not a Kubernetes object"}},
		{"unsupported kind", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n", []string{"unsupported kind ConfigMap"}},
		{"unknown field", strings.Replace(good, "    image: busybox", "    image: busybox\n    imagePolicy: x", 1), []string{`unknown field "spec.containers[0].imagePolicy"`}},
		{"unsupported field", strings.Replace(good, "spec:\n", "spec:\n  hostNetwork: true\n", 1), []string{`unsupported field "spec.hostNetwork"`}},
		{"second document bad", good + "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n", []string{"unsupported kind Secret"}},
		{"missing image", good + "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: pk-kbad2\nspec:\n  containers:\n  - name: c\n    image: pk-no-such-image\n", []string{"pk-no-such-image"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := sbWith(t, cmdOpts{stdin: tc.yaml}, "play", "kube", "-")
			msg := strings.TrimSpace(r.stderr)
			if r.code != 125 || strings.Contains(msg, "\n") {
				t.Fatalf("want exit 125 and one line\n%s", r)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not name %q", msg, w)
				}
			}
			for _, name := range []string{"pk-kbad", "pk-kbad2"} {
				if r := sb(t, "pod", "exists", name); r.code != 1 {
					t.Errorf("pod %s was left: %s", name, r)
				}
			}
			if left := ok(t, "ps", "-a", "--filter", "name=pk-kbad", "-q"); left != "" {
				t.Errorf("containers left: %s", left)
			}
		})
	}
}
