package seccomp

import "testing"

// defaultCaps is the bounding set a container gets without --cap-add.
var defaultCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP",
	"CAP_SETUID", "CAP_SYS_CHROOT",
}

func BenchmarkCompileDefault(b *testing.B) {
	for b.Loop() {
		if _, err := Compile(Options{Capabilities: defaultCaps}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkConditionDefault(b *testing.B) {
	for b.Loop() {
		if _, err := condition(Options{Capabilities: defaultCaps}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompileCachedDefault(b *testing.B) {
	dir := b.TempDir()
	o := Options{Capabilities: defaultCaps}
	if _, err := CompileCached(o, dir); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := CompileCached(o, dir); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompactDefault(b *testing.B) {
	c, err := condition(Options{Capabilities: defaultCaps})
	if err != nil {
		b.Fatal(err)
	}
	long, err := compileLong(c.spec)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := compactProgram(long); err != nil {
			b.Fatal(err)
		}
	}
}
