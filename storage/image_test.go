// Unit tests (privilege tier: none) of image reference normalisation.

package storage

import (
	"strconv"
	"strings"
	"testing"
)

const testDigest = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

func TestNormalizeName(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  string
	}{
		{in: "busybox", want: "docker.io/library/busybox:latest"},
		{in: "busybox:1.36", want: "docker.io/library/busybox:1.36"},
		{in: "library/busybox", want: "docker.io/library/busybox:latest"},
		{in: "docker.io/busybox", want: "docker.io/library/busybox:latest"},
		{in: "docker.io/library/busybox:latest", want: "docker.io/library/busybox:latest"},
		{in: "index.docker.io/library/busybox", want: "docker.io/library/busybox:latest"},
		{in: "alice/app", want: "docker.io/alice/app:latest"},
		{in: "quay.io/org/app:v1.2", want: "quay.io/org/app:v1.2"},
		{in: "localhost/app", want: "localhost/app:latest"},
		{in: "localhost:5000/app", want: "localhost:5000/app:latest"},
		{in: "registry.example.com:5000/a/b/c:tag_1", want: "registry.example.com:5000/a/b/c:tag_1"},
		{in: "busybox@" + testDigest, want: "docker.io/library/busybox@" + testDigest},
		{in: "busybox:1.36@" + testDigest, want: "docker.io/library/busybox:1.36@" + testDigest},
		{in: "localhost:5000/app@" + testDigest, want: "localhost:5000/app@" + testDigest},
		{in: "BusyBox", wantErr: `invalid image reference "BusyBox": want NAME[:TAG] or NAME@DIGEST, lower case`},
		{in: "Quay.io/org/App", wantErr: `invalid image reference "Quay.io/org/App"`},
		{in: "", wantErr: `invalid image reference ""`},
		{in: "a:b:c", wantErr: `invalid image reference "a:b:c"`},
		{in: "busybox:", wantErr: `invalid image reference "busybox:"`},
		{in: "busybox@sha256:abc", wantErr: `invalid image reference "busybox@sha256:abc"`},
		{in: "-busybox", wantErr: `invalid image reference "-busybox"`},
		{in: "busy box", wantErr: `invalid image reference "busy box"`},
		{in: "busybox:" + strings.Repeat("t", 129), wantErr: "invalid image reference"},
	}
	for _, tt := range tests {
		got, err := NormalizeName(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("NormalizeName(%q) = %v, %v; want an error containing %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got.String() != tt.want {
			t.Errorf("NormalizeName(%q) = %v, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestFamiliarName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"docker.io/library/busybox:latest", "busybox:latest"},
		{"docker.io/library/busybox:1.36", "busybox:1.36"},
		{"docker.io/alice/app:v1", "alice/app:v1"},
		{"docker.io/library/busybox@" + testDigest, "busybox@" + testDigest},
		{"quay.io/org/app:v1", "quay.io/org/app:v1"},
		{"localhost:5000/app:latest", "localhost:5000/app:latest"},
		{"localhost/app:latest", "localhost/app:latest"},
		{"busybox", "busybox"},
		// Not a reference: shown as it is.
		{"Not A Reference", "Not A Reference"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := FamiliarName(tt.in); got != tt.want {
			t.Errorf("FamiliarName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzNormalizeName(f *testing.F) {
	for _, s := range []string{"busybox", "alice/app:v1", "localhost:5000/app", "busybox@" + testDigest, "BusyBox", "a:b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		named, err := NormalizeName(ref)
		if err != nil {
			if !strings.Contains(err.Error(), "invalid image reference "+strconv.Quote(ref)) {
				t.Fatalf("NormalizeName(%q) error %q does not name the reference", ref, err)
			}
			return
		}
		s := named.String()
		if named.Tag == "" && named.Digest == "" {
			t.Fatalf("NormalizeName(%q) = %q has no tag or digest", ref, s)
		}
		if p := named.Path; p != strings.ToLower(p) {
			t.Fatalf("NormalizeName(%q) = %q: repository not lower case", ref, s)
		}
		// Normalising is idempotent, and docker's short form of a stored
		// name normalises back to it.
		for _, again := range []string{s, FamiliarName(s)} {
			n2, err := NormalizeName(again)
			if err != nil || n2.String() != s {
				t.Fatalf("NormalizeName(%q) = %v, %v; want %q (from %q)", again, n2, err, s, ref)
			}
		}
	})
}
