// Unit tests (privilege tier: none) of the names image inspect shows.

package storage

import (
	"strings"
	"testing"
)

func TestRepoNames(t *testing.T) {
	const d1 = "sha256:fa4d0fb29dcf2d4fa094bae8a27ffc84cca8f1609aa0f71dbb54b1d4bcdf16bf"
	const d2 = "sha256:0000000000000000000000000000000000000000000000000000000000000001"
	tests := []struct {
		name           string
		names, digests []string
		tags, repoDigs string
	}{
		{name: "none"},
		{name: "docker hub short form", names: []string{"docker.io/library/busybox:latest"}, digests: []string{d1},
			tags: "busybox:latest", repoDigs: "busybox@" + d1},
		{name: "two tags of one repository, two digests",
			names:   []string{"docker.io/library/busybox:latest", "docker.io/library/busybox:1"},
			digests: []string{d1, d2},
			tags:    "busybox:latest busybox:1", repoDigs: "busybox@" + d2 + " busybox@" + d1},
		{name: "other registry", names: []string{"registry.local:5000/team/app:v2"}, digests: []string{d1},
			tags: "registry.local:5000/team/app:v2", repoDigs: "registry.local:5000/team/app@" + d1},
		{name: "name by digest only", names: []string{"docker.io/library/busybox@" + d1}, digests: []string{d1},
			repoDigs: "busybox@" + d1},
		{name: "no digests", names: []string{"localhost/x:y"}, tags: "localhost/x:y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tags, digs := repoNames(tt.names, tt.digests)
			if tags == nil || digs == nil {
				t.Fatal("repoNames must return empty lists, not nil (docker shows [])")
			}
			if g := strings.Join(tags, " "); g != tt.tags {
				t.Errorf("RepoTags %q, want %q", g, tt.tags)
			}
			if g := strings.Join(digs, " "); g != tt.repoDigs {
				t.Errorf("RepoDigests %q, want %q", g, tt.repoDigs)
			}
		})
	}
}
