package engine

import (
	"reflect"
	"testing"

	"sandbox/kube/plan"
)

func TestCreateOptions(t *testing.T) {
	p := plan.Pod{Name: "web", RestartPolicy: "OnFailure"}
	c := plan.Container{
		Name: "srv", Image: "busybox", Command: []string{"httpd", "-f"}, Args: []string{"-p", "80"},
		Env:         []plan.EnvVar{{Name: "A", Value: "b=c"}},
		Mounts:      []plan.Mount{{Volume: "www", Path: "/www", ReadOnly: true}, {Volume: "data", Path: "/data"}},
		MemoryLimit: 64 << 20, CPULimit: 5e8, User: "1000:1000", CapDrop: []string{"NET_RAW"},
	}
	o, err := createOptions(p, c, map[string]string{"www": "/srv/www", "data": "mydata"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.Name != "web-srv" || o.Pod.Name != "web" || o.Image != "busybox" || o.User != "1000:1000" {
		t.Errorf("name %q pod %q image %q user %q", o.Name, o.Pod.Name, o.Image, o.User)
	}
	if o.Entrypoint == nil || *o.Entrypoint != `["httpd","-f"]` || !reflect.DeepEqual(o.Command, []string{"-p", "80"}) {
		t.Errorf("entrypoint %v command %v", o.Entrypoint, o.Command)
	}
	if !reflect.DeepEqual(o.Env, []string{"A=b=c"}) || !reflect.DeepEqual(o.Volumes, []string{"/srv/www:/www:ro", "mydata:/data"}) {
		t.Errorf("env %v volumes %v", o.Env, o.Volumes)
	}
	if o.Resources.Memory != "67108864" || o.Resources.CPUs != "0.5" || o.Restart != "on-failure" {
		t.Errorf("memory %q cpus %q restart %q", o.Resources.Memory, o.Resources.CPUs, o.Restart)
	}
	// Args alone keep the image's entrypoint; no command keeps its Cmd.
	o, err = createOptions(plan.Pod{Name: "p", RestartPolicy: "Never"}, plan.Container{Name: "c", Image: "i", Args: []string{"x"}}, nil, nil)
	if err != nil || o.Entrypoint != nil || !reflect.DeepEqual(o.Command, []string{"x"}) || o.Restart != "no" {
		t.Errorf("args only: %+v %v", o, err)
	}
}

func TestKubeName(t *testing.T) {
	for _, tc := range []struct{ in, suffix, want string }{
		{"/tmp/www", "-host", "tmp-www-host"},
		{"My_Data", "-pvc", "my-data-pvc"},
		{"///", "", "volume"},
		{"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/bb", "-host", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-bb-host"},
	} {
		got := kubeName(tc.in, tc.suffix)
		if got != tc.want || len(got) > 63 {
			t.Errorf("kubeName(%q, %q) = %q (%d), want %q", tc.in, tc.suffix, got, len(got), tc.want)
		}
	}
}
