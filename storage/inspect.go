package storage

import (
	"context"
	"fmt"
	"sort"
	"time"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// ImageInspect is an image as docker's image inspect shows it. The field
// names are docker's JSON keys, so that --format templates work unchanged.
type ImageInspect struct {
	// Id is "sha256:" and the image's id (its configuration's digest).
	Id string
	// RepoTags and RepoDigests are the image's names, in docker's short
	// form (busybox:latest, busybox@sha256:...).
	RepoTags     []string
	RepoDigests  []string
	Parent       string
	Comment      string
	Created      string
	Author       string
	Config       v1.ImageConfig
	Architecture string
	Variant      string `json:",omitempty"`
	Os           string
	// Size is the unpacked size of the image's layers in bytes (-1 when
	// unknown).
	Size int64
	// VirtualSize is Size again, under the name podman and older docker
	// clients read.
	VirtualSize int64
	RootFS      ImageRootFS
}

// ImageRootFS lists the image's layers by their uncompressed digests.
type ImageRootFS struct {
	Type   string
	Layers []string
}

// InspectImage builds the inspect document of an image found by id, unique
// id prefix or name. An image that is not there, or a name that cannot
// be one, is ErrNoSuchImage.
func (s *Store) InspectImage(ctx context.Context, ref string) (*ImageInspect, error) {
	img, err := s.ResolveImage(ref)
	if err != nil {
		if _, nerr := NormalizeName(ref); nerr != nil && !IsIDPrefix(ref) {
			return nil, fmt.Errorf("%w: %s", ErrNoSuchImage, ref)
		}
		return nil, err
	}
	cfg, err := s.ImageConfig(ctx, img.ID)
	if err != nil {
		return nil, err
	}
	out := &ImageInspect{
		Id:           "sha256:" + img.ID,
		RepoTags:     []string{},
		RepoDigests:  []string{},
		Created:      img.Created.UTC().Format(time.RFC3339Nano),
		Author:       cfg.Author,
		Config:       cfg.Config,
		Architecture: cfg.Architecture,
		Variant:      cfg.Variant,
		Os:           cfg.OS,
		Size:         s.LayersSize(img.TopLayer),
		VirtualSize:  s.LayersSize(img.TopLayer),
		RootFS:       ImageRootFS{Type: cfg.RootFS.Type, Layers: []string{}},
	}
	if cfg.Created != nil {
		out.Created = cfg.Created.UTC().Format(time.RFC3339Nano)
	}
	if n := len(cfg.History); n > 0 {
		out.Comment = cfg.History[n-1].Comment
	}
	for _, d := range cfg.RootFS.DiffIDs {
		out.RootFS.Layers = append(out.RootFS.Layers, d.String())
	}
	var digests []string
	for _, d := range img.Digests {
		digests = append(digests, d.String())
	}
	out.RepoTags, out.RepoDigests = repoNames(img.Names, digests)
	return out, nil
}

// repoNames splits an image's stored names into docker's RepoTags and
// RepoDigests: every repository with every digest of the image.
func repoNames(names, digests []string) (tags, repoDigests []string) {
	tags, repoDigests = []string{}, []string{}
	seen := map[string]bool{}
	for _, n := range names {
		named, err := ParseReference(n)
		if err != nil {
			continue // containers/storage keeps only names that parse
		}
		if named.Tag != "" {
			tags = append(tags, named.FamiliarString())
		}
		repo := named.FamiliarName()
		for _, d := range digests {
			rd := repo + "@" + d
			if !seen[rd] {
				seen[rd] = true
				repoDigests = append(repoDigests, rd)
			}
		}
	}
	sort.Strings(repoDigests)
	return tags, repoDigests
}

// LayerDirs are the directories of a layer as the driver names them (for
// overlay: MergedDir, UpperDir, WorkDir, LowerDir; nothing for vfs).
func (s *Store) LayerDirs(layerID string) (map[string]string, error) {
	d, err := s.GraphDriver()
	if err != nil {
		return nil, fmt.Errorf("storage driver: %w", err)
	}
	m, err := d.Metadata(layerID)
	if err != nil {
		return nil, fmt.Errorf("layer %.12s directories: %w", layerID, err)
	}
	return m, nil
}
