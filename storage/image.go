package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"sandbox/events"

	cstorage "go.podman.io/storage"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// ErrNoSuchImage is returned when no image matches a reference.
var ErrNoSuchImage = errors.New("no such image")

// NormalizeName turns a reference as users type it into the name images
// are stored under: short names go to docker.io (library/ for one
// component) and a missing tag is latest. The error names the reference
// and the expected form.
func NormalizeName(ref string) (Reference, error) {
	r, err := ParseReference(ref)
	if err != nil {
		return Reference{}, fmt.Errorf("invalid image reference %q: want NAME[:TAG] or NAME@DIGEST, lower case (%v)", ref, err)
	}
	return r.WithDefaultTag(), nil
}

// FamiliarName is how docker shows a stored name: docker.io/library/x:t
// becomes x:t.
func FamiliarName(name string) string {
	r, err := ParseReference(name)
	if err != nil {
		return name
	}
	return r.FamiliarString()
}

// Image is an image in the store.
type Image struct {
	*cstorage.Image
}

// ResolveImage finds an image by id, unique id prefix, or name.
func (s *Store) ResolveImage(ref string) (*Image, error) {
	if IsIDPrefix(ref) {
		id := strings.TrimPrefix(ref, "sha256:")
		if img, err := s.Image(id); err == nil {
			return &Image{img}, nil
		}
		if len(id) == 64 {
			// A whole id can be no name: it names no image here.
			return nil, fmt.Errorf("%w: %s", ErrNoSuchImage, ref)
		}
	}
	named, err := NormalizeName(ref)
	if err != nil {
		return nil, err
	}
	if named.Digest != "" {
		imgs, err := s.ImagesByDigest(digest.Digest(named.Digest))
		if err == nil && len(imgs) > 0 {
			return &Image{imgs[0]}, nil
		}
		return nil, fmt.Errorf("%w: %s", ErrNoSuchImage, ref)
	}
	img, err := s.Image(named.String())
	if errors.Is(err, cstorage.ErrImageUnknown) {
		return nil, fmt.Errorf("%w: %s", ErrNoSuchImage, ref)
	}
	if err != nil {
		return nil, fmt.Errorf("look up image %s: %w", ref, err)
	}
	return &Image{img}, nil
}

// ImageConfig reads an image's OCI configuration (Env, Cmd, Entrypoint,
// WorkingDir, User, ...) straight from the store: the image's manifest
// names its configuration blob, stored beside it. Docker's schema 2
// configuration has the OCI fields under the same names, which is how
// containers/image converts it too. Reading it here keeps containers/image
// out of the sandbox binary, whose every start would pay for its packages.
func (s *Store) ImageConfig(ctx context.Context, id string) (*v1.Image, error) {
	var cfg v1.Image
	if err := s.decodeConfig(id, &cfg); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// decodeConfig decodes image id's configuration blob into cfg.
func (s *Store) decodeConfig(id string, cfg any) error {
	m, err := s.ImageBigData(id, cstorage.ImageDigestBigDataKey)
	if err != nil {
		return fmt.Errorf("image %s manifest: %w", id, err)
	}
	key, err := configKey(m)
	if err != nil {
		return fmt.Errorf("image %s: %w", id, err)
	}
	data, err := s.ImageBigData(id, key)
	if err != nil {
		return fmt.Errorf("image %s configuration: %w", id, err)
	}
	if err := json.Unmarshal(data, cfg); err != nil {
		return fmt.Errorf("image %s configuration: %w", id, err)
	}
	return nil
}

// configKey is the digest of the configuration blob that an image
// manifest (OCI, or Docker schema 2) names: the key under which the store
// keeps that blob. Manifest lists and Docker schema 1 manifests have none.
func configKey(manifest []byte) (string, error) {
	var m struct {
		SchemaVersion int    `json:"schemaVersion"`
		MediaType     string `json:"mediaType"`
		Config        struct {
			Digest string `json:"digest"`
		} `json:"config"`
		Manifests json.RawMessage `json:"manifests"`
	}
	if err := json.Unmarshal(manifest, &m); err != nil {
		return "", fmt.Errorf("parse manifest: %w", err)
	}
	switch {
	case m.SchemaVersion == 1:
		return "", errors.New("a Docker schema 1 manifest has no configuration: pull the image again from a registry that serves schema 2 or OCI")
	case m.SchemaVersion != 2:
		return "", fmt.Errorf("manifest schema version %d: want 2", m.SchemaVersion)
	case m.Manifests != nil:
		return "", fmt.Errorf("the manifest is a list (%s), not an image's", m.MediaType)
	}
	d, err := digest.Parse(m.Config.Digest)
	if err != nil {
		return "", fmt.Errorf("manifest config digest %q: %w", m.Config.Digest, err)
	}
	return d.String(), nil
}

// ImageSummary is one line of `images`.
type ImageSummary struct {
	ID         string
	Repository string
	Tag        string
	Created    time.Time
	Size       int64
	Names      []string
	// Digest is the digest of the image's manifest ("" when unknown).
	Digest string
}

// ListImages lists images, newest first, one entry per name (an image
// without a name shows as <none>:<none>). A build step's image is listed
// only with all, as docker's images -a lists intermediate images.
func (s *Store) ListImages(all bool) ([]ImageSummary, error) {
	imgs, err := s.Images()
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	var out []ImageSummary
	for _, img := range imgs {
		if m := ParseBuildMeta(img.Metadata); !all && len(img.Names) == 0 && (m.Intermediate || m.Pending) {
			continue // a build step's image (layer cache), or one not named yet
		}
		size := s.LayersSize(img.TopLayer)
		base := ImageSummary{ID: img.ID, Created: img.Created, Size: size, Names: img.Names, Digest: img.Digest.String()}
		if len(img.Names) == 0 {
			base.Repository, base.Tag = "<none>", "<none>"
			out = append(out, base)
			continue
		}
		for _, n := range img.Names {
			e := base
			e.Repository, e.Tag = splitName(n)
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}

// LayersSize is the unpacked size of a layer and its parents, as docker
// reports an image's size (ImageSize would also count id-mapped copies made
// for --userns=keep-id). -1 when unknown.
func (s *Store) LayersSize(top string) int64 {
	var total int64
	for id := top; id != ""; {
		l, err := s.Layer(id)
		if err != nil || l.UncompressedSize < 0 {
			return -1
		}
		total += l.UncompressedSize
		id = l.Parent
	}
	return total
}

func splitName(name string) (repo, tag string) {
	r, err := ParseReference(name)
	if err != nil {
		return name, "<none>"
	}
	repo = r.FamiliarName()
	tag = "<none>"
	if r.Tag != "" {
		tag = r.Tag
	} else if r.Digest != "" {
		tag = r.Digest
	}
	return repo, tag
}

// Tag adds names to an image.
func (s *Store) Tag(ref string, targets []string) error {
	img, err := s.ResolveImage(ref)
	if err != nil {
		return err
	}
	var names []string
	for _, t := range targets {
		named, err := NormalizeName(t)
		if err != nil {
			return err
		}
		names = append(names, named.String())
	}
	if err := s.AddNames(img.ID, names); err != nil {
		return fmt.Errorf("tag %s: %w", ref, err)
	}
	for _, n := range names {
		s.record(events.Tag, img.ID, n)
	}
	return nil
}

// FilterImages keeps the entries whose repository (and tag, when the
// reference has one) match ref, as `docker images REPOSITORY[:TAG]` does.
func FilterImages(list []ImageSummary, ref string) ([]ImageSummary, error) {
	named, err := ParseReference(ref)
	if err != nil {
		return nil, fmt.Errorf("invalid image reference %q: want REPOSITORY[:TAG]", ref)
	}
	repo, tag := named.FamiliarName(), named.Tag
	var out []ImageSummary
	for _, i := range list {
		if i.Repository == repo && (tag == "" || i.Tag == tag) {
			out = append(out, i)
		}
	}
	return out, nil
}
