// Unit tests (privilege tier: none) of image reference parsing, checked
// against the distribution project's reference package as containers/image
// carries it, which this parser stands in for.

package storage

import (
	"strings"
	"testing"

	"go.podman.io/image/v5/docker/reference"
)

// refCases are inputs that exercise every rule of the grammar.
var refCases = []string{
	"busybox", "busybox:1.36", "library/busybox", "docker.io/busybox", "index.docker.io/busybox",
	"docker.io/library/busybox:latest", "alice/app", "alice/app/sub", "quay.io/org/app:v1.2",
	"localhost/app", "localhost:5000/app", "localhost:5000", "localhost:5000:tag", "a:5000",
	"registry.example.com:5000/a/b/c:tag_1", "Registry.Example.COM/a", "re-g.io/a", "-reg.io/a", "reg-.io/a",
	"reg..io/a", "reg.io:/a", "reg.io:5x/a", "a_b.c/x", "a_b.c/X", "a.b/c.d_e__f---g/h",
	"a..b", "a._b", "a___b", "a--b", "a-", "-a", "_a", "a__", "", "/", "a/", "/a", "a//b",
	"busybox@sha256:" + strings.Repeat("a", 64), "busybox:1@sha256:" + strings.Repeat("b", 64),
	"busybox@sha256:" + strings.Repeat("A", 64), "busybox@sha256:abc", "busybox@sha256:" + strings.Repeat("a", 32),
	"busybox@sha512:" + strings.Repeat("c", 128), "busybox@md5:" + strings.Repeat("d", 32), "busybox@x+y.z:" + strings.Repeat("e", 40),
	"busybox@1sha:" + strings.Repeat("e", 40), "busybox@sha256-:" + strings.Repeat("e", 40), "a@b@sha256:" + strings.Repeat("a", 64),
	strings.Repeat("a", 64), strings.Repeat("a", 63), strings.Repeat("A", 64), "sha256:" + strings.Repeat("a", 64),
	"busybox:" + strings.Repeat("t", 128), "busybox:" + strings.Repeat("t", 129), "busybox:", "busybox:-t", "busybox:.t", "busybox:_t",
	"BusyBox", "busyBox:latest", "busybox:LATEST", "Quay.io/org/App", "a:b:c", "a:b/c", "a:5/b:c/d", "busy box", "a/b:c/d",
	"reg.io/" + strings.Repeat("a", 250), "reg.io/" + strings.Repeat("a", 247), "reg.io/" + strings.Repeat("a", 248),
	"\u00e9t\u00e9", "a\x00b", "localhost", "localhost:tag", "LOCALHOST/a", "docker.io/Library/a", "index.docker.io/a/b",
}

func TestParseReferenceMatchesDocker(t *testing.T) {
	for _, in := range refCases {
		checkAgainstDocker(t, in)
	}
}

func FuzzParseReference(f *testing.F) {
	for _, in := range refCases {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		checkAgainstDocker(t, in)
	})
}

// checkAgainstDocker: ParseReference accepts what ParseNormalizedNamed
// accepts, and gives the same parts and forms of it.
func checkAgainstDocker(t *testing.T, in string) {
	t.Helper()
	got, err := ParseReference(in)
	want, werr := reference.ParseNormalizedNamed(in)
	if (err == nil) != (werr == nil) {
		t.Fatalf("ParseReference(%q) = %+v, %v; docker's: %v, %v", in, got, err, want, werr)
	}
	if err != nil {
		return
	}
	var tag, dig string
	if tg, ok := want.(reference.Tagged); ok {
		tag = tg.Tag()
	}
	if d, ok := want.(reference.Digested); ok {
		dig = d.Digest().String()
	}
	if got.Domain != reference.Domain(want) || got.Path != reference.Path(want) || got.Tag != tag || got.Digest != dig {
		t.Fatalf("ParseReference(%q) = %+v; docker's: domain %q path %q tag %q digest %q", in, got, reference.Domain(want), reference.Path(want), tag, dig)
	}
	if got.String() != want.String() || got.Repository() != want.Name() {
		t.Errorf("ParseReference(%q): String %q Name %q; docker's %q %q", in, got.String(), got.Repository(), want.String(), want.Name())
	}
	if got.FamiliarString() != reference.FamiliarString(want) || got.FamiliarName() != reference.FamiliarName(want) {
		t.Errorf("ParseReference(%q): familiar %q %q; docker's %q %q", in, got.FamiliarString(), got.FamiliarName(), reference.FamiliarString(want), reference.FamiliarName(want))
	}
	if got.WithDefaultTag().String() != reference.TagNameOnly(want).String() {
		t.Errorf("ParseReference(%q).WithDefaultTag() = %q; docker's %q", in, got.WithDefaultTag(), reference.TagNameOnly(want))
	}
}

func TestIsIDPrefix(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"abc", true}, {"ab", false}, {"0123456789abcdef", true}, {"sha256:abc", true}, {"sha256:ab", false},
		{strings.Repeat("a", 64), true}, {strings.Repeat("a", 65), false}, {"ABC", false}, {"abg", false},
		{"sha512:abc", false}, {"", false}, {"sha256:", false}, {"busybox", false},
	}
	for _, tt := range tests {
		if got := IsIDPrefix(tt.in); got != tt.want {
			t.Errorf("IsIDPrefix(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
