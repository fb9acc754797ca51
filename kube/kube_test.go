package kube

import (
	"reflect"
	"strings"
	"testing"

	"sandbox/kube/plan"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

const podYAML = `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
    tier: front
spec:
  restartPolicy: Never
  containers:
  - name: srv
    image: busybox
    command: ["httpd", "-f"]
    args: ["-p", "80"]
    env:
    - name: A
      value: b
    ports:
    - containerPort: 80
      hostPort: 8080
    volumeMounts:
    - name: data
      mountPath: /data
      readOnly: true
    resources:
      limits:
        memory: 64Mi
        cpu: 500m
    securityContext:
      capabilities:
        add: [NET_ADMIN]
      runAsUser: 1000
  volumes:
  - name: data
    hostPath:
      path: /srv
      type: DirectoryOrCreate
`

func TestDecode(t *testing.T) {
	want := plan.Pod{Name: "web", Labels: map[string]string{"tier": "front"}, RestartPolicy: "Never",
		Containers: []plan.Container{{
			Name: "srv", Image: "busybox", Command: []string{"httpd", "-f"}, Args: []string{"-p", "80"},
			Env:         []plan.EnvVar{{Name: "A", Value: "b"}},
			Ports:       []plan.Port{{ContainerPort: 80, HostPort: 8080, Protocol: "tcp"}},
			Mounts:      []plan.Mount{{Volume: "data", Path: "/data", ReadOnly: true}},
			MemoryLimit: 64 << 20, CPULimit: 5e8, CapAdd: []string{"NET_ADMIN"}, User: "1000",
		}},
		Volumes: []plan.Volume{{Name: "data", HostPath: "/srv", HostPathCreate: true}},
	}
	d, err := Decode([]byte(podYAML))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Pods) != 1 || !reflect.DeepEqual(d.Pods[0], want) {
		t.Fatalf("got %+v\nwant %+v", d.Pods, want)
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"unknown field", strings.Replace(podYAML, "    image: busybox", "    image: busybox\n    imagee: x", 1), `unknown field "spec.containers[0].imagee"`},
		{"unsupported field", strings.Replace(podYAML, "  restartPolicy: Never", "  restartPolicy: Never\n  hostNetwork: true", 1), `unsupported field "spec.hostNetwork"`},
		{"unsupported limit", strings.Replace(podYAML, "limits:", "requests:", 1), `unsupported field "spec.containers[0].resources.requests"`},
		{"unsupported kind", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n", "unsupported kind ConfigMap"},
		{"not kubernetes", "foo: bar\n", "not a Kubernetes object"},
		{"not a mapping", "- a\n- b\n", "not a Kubernetes object"},
		{"empty", "\n", "no Kubernetes object"},
		{"duplicate key", "apiVersion: v1\nkind: Pod\nkind: Pod\n", "not valid YAML"},
		{"type", strings.Replace(podYAML, "hostPort: 8080", "hostPort: abc", 1), "hostPort"},
		{"no image", strings.Replace(podYAML, "    image: busybox\n", "", 1), `"spec.containers[0].image" is missing`},
		{"undefined volume", strings.Replace(podYAML, "  - name: data\n    hostPath", "  - name: other\n    hostPath", 1), `no volume "data"`},
		{"relative hostPath", strings.Replace(podYAML, "path: /srv", "path: srv", 1), "not an absolute path"},
		{"pull policy", strings.Replace(podYAML, "    image: busybox", "    image: busybox\n    imagePullPolicy: Sometimes", 1), `"spec.containers[0].imagePullPolicy"`},
		{"sctp", strings.Replace(podYAML, "hostPort: 8080", "hostPort: 8080\n      protocol: SCTP", 1), "SCTP"},
		{"twice", podYAML + "---\n" + podYAML, `pod "web" is described twice`},
		{"replicas with hostPort", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n      - name: c\n        image: busybox\n        ports:\n        - containerPort: 80\n          hostPort: 8080\n", "2 replicas"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is more than one line", err)
			}
		})
	}
}

func TestDeploymentReplicas(t *testing.T) {
	y := "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  replicas: 3\n  selector:\n    matchLabels:\n      app: d\n  template:\n    metadata:\n      labels:\n        app: d\n    spec:\n      containers:\n      - name: c\n        image: busybox\n"
	d, err := Decode([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range d.Pods {
		names = append(names, p.Name)
	}
	if got := strings.Join(names, " "); got != "d-pod-0 d-pod-1 d-pod-2" {
		t.Fatalf("pods %q", got)
	}
}

// TestGenerateRoundTrip: what Generate prints decodes strictly with the
// API types, and Decode gives the same pod back.
func TestGenerateRoundTrip(t *testing.T) {
	d, err := Decode([]byte(podYAML))
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{plan.KindPod, plan.KindDeployment} {
		y, err := Generate(plan.GenerateRequest{Pods: d.Pods, Type: kind, Service: true})
		if err != nil {
			t.Fatal(err)
		}
		docs := splitDocuments(y)
		if len(docs) != 2 {
			t.Fatalf("%s: %d documents, want the %s and a Service:\n%s", kind, len(docs), kind, y)
		}
		var svc corev1.Service
		if err := yaml.UnmarshalStrict(docs[1], &svc); err != nil || len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != 80 {
			t.Fatalf("service %+v: %v", svc.Spec, err)
		}
		back, err := Decode(y)
		if err != nil {
			t.Fatalf("%s: %v\n%s", kind, err, y)
		}
		got := back.Pods[0]
		want := d.Pods[0]
		if kind == plan.KindDeployment {
			want.Name = "web-deployment-pod"
			want.Labels = map[string]string{"app": "web", "tier": "front"}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v\nwant %+v", kind, got, want)
		}
	}
}

func TestGenerateType(t *testing.T) {
	if _, err := Generate(plan.GenerateRequest{Type: "job", Pods: []plan.Pod{{Name: "x"}}}); err == nil {
		t.Fatal("type job accepted")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(podYAML))
	f.Add([]byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec:\n      containers: []\n"))
	f.Add([]byte("foo: [1, 2"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Decode(data)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error of more than one line: %q", err)
			}
			return
		}
		for _, p := range d.Pods {
			if p.Name == "" || len(p.Containers) == 0 {
				t.Fatalf("pod without name or containers: %+v", p)
			}
		}
	})
}
