// Unit tests (privilege tier: none) of reading an image manifest's
// configuration key.

package storage

import (
	"strings"
	"testing"
)

func TestConfigKey(t *testing.T) {
	const cfg = "sha256:bdc916cf9657b7ceb1ddf468852e7c6314d4c954686563d43ebab52c58252bd0"
	tests := []struct {
		name, manifest, want, wantErr string
	}{
		{name: "OCI", want: cfg, manifest: `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
			"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"` + cfg + `","size":1},"layers":[]}`},
		{name: "OCI without mediaType", want: cfg, manifest: `{"schemaVersion":2,"config":{"digest":"` + cfg + `"}}`},
		{name: "Docker schema 2", want: cfg, manifest: `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
			"config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"` + cfg + `","size":1},"layers":[]}`},
		{name: "Docker schema 1", wantErr: "Docker schema 1", manifest: `{"schemaVersion":1,"name":"a","tag":"b","fsLayers":[],"history":[]}`},
		{name: "OCI index", wantErr: "is a list (application/vnd.oci.image.index.v1+json)",
			manifest: `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`},
		{name: "Docker list", wantErr: "is a list",
			manifest: `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[{"digest":"` + cfg + `"}]}`},
		{name: "no config", wantErr: `config digest ""`, manifest: `{"schemaVersion":2,"layers":[]}`},
		{name: "bad digest", wantErr: `config digest "sha256:abc"`, manifest: `{"schemaVersion":2,"config":{"digest":"sha256:abc"}}`},
		{name: "schema 3", wantErr: "schema version 3: want 2", manifest: `{"schemaVersion":3}`},
		{name: "no schema", wantErr: "schema version 0", manifest: `{}`},
		{name: "not JSON", wantErr: "parse manifest", manifest: `<html>`},
	}
	for _, tt := range tests {
		got, err := configKey([]byte(tt.manifest))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: configKey = %q, %v; want an error containing %q", tt.name, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: configKey = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

// FuzzConfigKey: any input gives a key that is a valid digest, or an error.
func FuzzConfigKey(f *testing.F) {
	f.Add([]byte(`{"schemaVersion":2,"config":{"digest":"sha256:bdc916cf9657b7ceb1ddf468852e7c6314d4c954686563d43ebab52c58252bd0"}}`))
	f.Add([]byte(`{"schemaVersion":1}`))
	f.Add([]byte(`{"schemaVersion":2,"manifests":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		key, err := configKey(data)
		if err != nil {
			if key != "" {
				t.Fatalf("configKey(%q) = %q with error %v", data, key, err)
			}
			return
		}
		if !strings.HasPrefix(key, "sha256:") && !strings.HasPrefix(key, "sha512:") && !strings.HasPrefix(key, "sha384:") {
			t.Fatalf("configKey(%q) = %q: not a digest", data, key)
		}
	})
}
