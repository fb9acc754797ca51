package build

import (
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

func parseOne(t *testing.T, text string) *dockerfile {
	t.Helper()
	df, err := parseDockerfile("Dockerfile", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return df
}

func TestParseErrorsNameTheLine(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"FROM busybox\nRUN true\nENV\n", "Dockerfile:3: "},
		{"FROM busybox\nFOO bar\n", "Dockerfile:2: "},
		{"RUN true\n", "Dockerfile:1: "},
		{"# only a comment\n", "Dockerfile:1: file with no instructions"},
	} {
		_, err := parseDockerfile("Dockerfile", []byte(c.text))
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q: error %v, want it to start with %q", c.text, err, c.want)
		}
	}
}

func TestStages(t *testing.T) {
	df := parseOne(t, "ARG B=busybox\nFROM $B AS one\nRUN true\nFROM one AS Two\nFROM scratch\n")
	if i, ok := df.stageIndex("ONE", 2); !ok || i != 0 {
		t.Errorf("stage ONE: %d %v", i, ok)
	}
	if _, ok := df.stageIndex("two", 1); ok {
		t.Error("a stage is found before it is defined")
	}
	if i, ok := df.stageIndex("1", 2); !ok || i != 1 {
		t.Errorf("stage 1: %d %v", i, ok)
	}
	if i, err := df.target(""); err != nil || i != 2 {
		t.Errorf("default target: %d %v", i, err)
	}
	if _, err := df.target("three"); err == nil || !strings.Contains(err.Error(), "one, two") {
		t.Errorf("unknown target: %v", err)
	}
}

func TestRunArgv(t *testing.T) {
	st := &stage{shell: []string{"/bin/sh", "-c"}}
	for _, c := range []struct{ text, want string }{
		{"RUN echo hi", "/bin/sh|-c|echo hi"},
		{`RUN ["echo", "a b"]`, "echo|a b"},
		{"RUN <<EOF\necho doc\nEOF", "/bin/sh|-c|echo doc\n"},
		{"RUN cat <<EOT > /f\nline\nEOT", "/bin/sh|-c|cat <<EOT > /f\nline\nEOT"},
	} {
		df := parseOne(t, "FROM busybox\n"+c.text+"\n")
		run, ok := df.stages[0].Commands[0].(*instructions.RunCommand)
		if !ok {
			t.Fatalf("%q: not a RUN", c.text)
		}
		if got := strings.Join(st.runArgv(run), "|"); got != c.want {
			t.Errorf("%q: argv %q, want %q", c.text, got, c.want)
		}
	}
}

func TestEnvList(t *testing.T) {
	e := envList{"A=1", "B=x=y", "A=2"}
	if v, ok := e.Get("A"); !ok || v != "2" {
		t.Errorf("A = %q %v: the last wins", v, ok)
	}
	if v, _ := e.Get("B"); v != "x=y" {
		t.Errorf("B = %q", v)
	}
	if _, ok := e.Get("C"); ok {
		t.Error("C is set")
	}
	if got := strings.Join(e.Keys(), ","); got != "A,B" {
		t.Errorf("keys %s", got)
	}
	if got := strings.Join(setEnv([]string{"A=1", "B=2"}, "A", "3"), ","); got != "B=2,A=3" {
		t.Errorf("setEnv: %s", got)
	}
}
