package storage

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"runtime"
	"strings"
	"time"

	"sandbox/internal/faultinject"

	cstorage "go.podman.io/storage"
	"go.podman.io/storage/pkg/archive"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
)

// NewImageOptions describe an image to write from layers already in the
// store (CreateImageFrom).
type NewImageOptions struct {
	// TopLayer is the image's top layer; "" makes an image without layers
	// (FROM scratch with nothing added).
	TopLayer string
	// Config is the image's configuration. Its RootFS is replaced by the
	// diff ids of TopLayer and its parents; its History must already hold
	// one entry without EmptyLayer per layer.
	Config dockerspec.DockerOCIImage
	// Names are the image's names, normalized (NormalizeName).
	Names []string
	// Meta is kept with the image; build keeps its cache key there.
	Meta BuildMeta
	// WrittenStep and NamedStep are the fault-injection steps (package
	// faultinject) passed once the image is written and once it is
	// named ("": none).
	WrittenStep, NamedStep string
}

// CreateImageFrom writes an OCI image (configuration and manifest) whose
// layers are TopLayer and its parents, as containers/image's storage
// destination would, so pull, push, save and run read it as any other.
// Layers that were pulled keep their compressed digest in the manifest;
// layers made here are listed uncompressed.
//
// An image that is not a build step's is written pending (BuildMeta),
// then named, then its metadata is set: until then images does not list
// it, and if the command is killed before that, the recovery of its
// transfer record (BeginTransfer) removes it. No one sees it half-named.
func (s *Store) CreateImageFrom(o NewImageOptions) (*Image, error) {
	chain, err := s.layerChain(o.TopLayer)
	if err != nil {
		return nil, err
	}
	cfg := o.Config
	if cfg.Created == nil {
		now := time.Now().UTC()
		cfg.Created = &now
	}
	if cfg.OS == "" {
		cfg.OS, cfg.Architecture = "linux", runtime.GOARCH
	}
	cfg.RootFS = v1.RootFS{Type: "layers", DiffIDs: []digest.Digest{}}
	m := v1.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: v1.MediaTypeImageManifest, Layers: []v1.Descriptor{}}
	for _, l := range chain {
		if l.UncompressedDigest == "" {
			return nil, fmt.Errorf("layer %.12s has no digest: it is not an image layer", l.ID)
		}
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, l.UncompressedDigest)
		d := v1.Descriptor{MediaType: v1.MediaTypeImageLayer, Digest: l.UncompressedDigest, Size: l.UncompressedSize}
		if l.CompressedDigest != "" && l.CompressionType == archive.Gzip {
			d = v1.Descriptor{MediaType: v1.MediaTypeImageLayerGzip, Digest: l.CompressedDigest, Size: l.CompressedSize}
		}
		m.Layers = append(m.Layers, d)
	}
	if n := nonEmpty(cfg.History); n != len(chain) {
		return nil, fmt.Errorf("image history names %d layers, the image has %d", n, len(chain))
	}
	cfgData, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("image configuration: %w", err)
	}
	cfgDigest := digest.FromBytes(cfgData)
	m.Config = v1.Descriptor{MediaType: v1.MediaTypeImageConfig, Digest: cfgDigest, Size: int64(len(cfgData))}
	mData, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("image manifest: %w", err)
	}
	mDigest := digest.FromBytes(mData)
	// Names go on afterwards: AddNames takes them from an image that has
	// them (a rebuild's tag moves), where CreateImage would refuse.
	meta := o.Meta
	meta.Pending = !meta.Intermediate
	img, err := s.CreateImage(cfgDigest.Encoded(), nil, o.TopLayer, meta.String(), &cstorage.ImageOptions{
		CreationDate: *cfg.Created,
		Digest:       mDigest,
		BigData: []cstorage.ImageBigDataOption{
			{Key: cfgDigest.String(), Data: cfgData, Digest: cfgDigest},
			{Key: cstorage.ImageDigestManifestBigDataNamePrefix + "-" + mDigest.String(), Data: mData, Digest: mDigest},
			{Key: cstorage.ImageDigestBigDataKey, Data: mData, Digest: mDigest},
		},
	})
	if errors.Is(err, cstorage.ErrDuplicateID) {
		// The same configuration on the same layers: the image exists.
		img, err = s.Image(cfgDigest.Encoded())
	}
	if err != nil {
		return nil, fmt.Errorf("create image: %w", err)
	}
	faultinject.Step(o.WrittenStep)
	if len(o.Names) > 0 {
		if err := s.AddNames(img.ID, o.Names); err != nil {
			return nil, fmt.Errorf("name image %.12s: %w", img.ID, err)
		}
	}
	faultinject.Step(o.NamedStep)
	if ParseBuildMeta(img.Metadata).Pending {
		// Ours, or one a killed command left: it is whole now.
		if err := s.SetMetadata(img.ID, o.Meta.String()); err != nil {
			return nil, fmt.Errorf("image %.12s: %w", img.ID, err)
		}
	}
	if img, err = s.Image(img.ID); err != nil {
		return nil, fmt.Errorf("image %.12s: %w", img.ID, err)
	}
	return &Image{img}, nil
}

// nonEmpty counts the history entries that made a layer.
func nonEmpty(h []v1.History) int {
	n := 0
	for _, e := range h {
		if !e.EmptyLayer {
			n++
		}
	}
	return n
}

// layerChain is top and its parents, bottom first.
func (s *Store) layerChain(top string) ([]*cstorage.Layer, error) {
	var chain []*cstorage.Layer
	for id := top; id != ""; {
		l, err := s.Layer(id)
		if err != nil {
			return nil, fmt.Errorf("layer %.12s: %w", id, err)
		}
		chain = append([]*cstorage.Layer{l}, chain...)
		id = l.Parent
	}
	return chain, nil
}

// FreezeOptions say what FreezeLayer leaves out, and name its steps.
type FreezeOptions struct {
	// Drop are paths (relative, like "etc/hosts") left out of the new
	// layer: a runtime's mount targets.
	Drop []string
	// BufferedStep and StoredStep are the fault-injection steps (package
	// faultinject) passed once the changes are in the buffer and once
	// the new layer is stored ("": none).
	BufferedStep, StoredStep string
}

// layerBufferPattern names FreezeLayer's buffers in the run root. Only a
// command that holds a transfer record (BeginTransfer) freezes layers:
// one left once no transfer runs is a killed command's.
const layerBufferPattern = "sandbox-layer-*.tar"

// FreezeLayer turns a writable layer (a container's, or one made with
// CreateLayer) into a read-only image layer on the same parent: its
// changes, as a tar stream, become a new layer with a digest. The writable
// layer is left as it was. The caller holds a transfer record
// (BeginTransfer), whose recovery removes what a kill leaves.
func (s *Store) FreezeLayer(ctx context.Context, writable string, o FreezeOptions) (*cstorage.Layer, error) {
	l, err := s.Layer(writable)
	if err != nil {
		return nil, fmt.Errorf("layer %.12s: %w", writable, err)
	}
	drop := o.Drop
	// The diff holds the layer store's lock until it is closed, and
	// PutLayer takes it to write: the changes go through a file.
	tmp, err := os.CreateTemp(s.RunRoot(), layerBufferPattern)
	if err != nil {
		return nil, fmt.Errorf("layer buffer: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	uncompressed := archive.Uncompressed
	rc, err := s.Diff("", l.ID, &cstorage.DiffOptions{Compression: &uncompressed})
	if err != nil {
		return nil, fmt.Errorf("read the changes of layer %.12s: %w", l.ID, err)
	}
	err = copyChanges(tmp, ctxReader{ctx, rc}, drop)
	if cerr := rc.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("read the changes of layer %.12s: %w", l.ID, err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("layer buffer: %w", err)
	}
	faultinject.Step(o.BufferedStep)
	layer, _, err := s.PutLayer("", l.Parent, nil, "", false, nil, ctxReader{ctx, tmp})
	if err != nil {
		return nil, fmt.Errorf("write layer: %w", err)
	}
	faultinject.Step(o.StoredStep)
	return layer, nil
}

// copyChanges copies a layer's tar stream, without the entries named in
// drop.
func copyChanges(w io.Writer, r io.Reader, drop []string) error {
	if len(drop) == 0 {
		_, err := io.Copy(w, r)
		return err
	}
	skip := map[string]bool{}
	for _, d := range drop {
		skip[path.Clean(strings.TrimPrefix(d, "/"))] = true
	}
	tr, tw := tar.NewReader(r), tar.NewWriter(w)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return tw.Close()
		}
		if err != nil {
			return err
		}
		if skip[path.Clean(strings.TrimPrefix(h.Name, "./"))] {
			continue
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
	}
}

// ctxReader stops a copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// CommitOptions say what Commit makes of a container.
type CommitOptions struct {
	// Config is the new image's configuration without its new history
	// entry; History is that entry (its Created is set when zero).
	Config  dockerspec.DockerOCIImage
	History v1.History
	// Names are the new image's names as the user typed them.
	Names []string
}

// Commit makes an image of a container: its image's layers plus the
// container's changes as one new layer. ctr is the container's storage id.
// It is recorded as a transfer (BeginTransfer): what a kill leaves goes
// with the next transfer's recovery.
func (s *Store) Commit(ctx context.Context, ctr string, o CommitOptions) (_ *Image, retErr error) {
	tr, err := s.BeginTransfer("commit")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := tr.End(); err != nil && retErr == nil {
			retErr = err
		}
	}()
	c, err := s.Container(ctr)
	if err != nil {
		return nil, fmt.Errorf("container %.12s: %w", ctr, err)
	}
	var names []string
	for _, n := range o.Names {
		named, err := NormalizeName(n)
		if err != nil {
			return nil, err
		}
		names = append(names, named.String())
	}
	layer, err := s.FreezeLayer(ctx, c.LayerID, FreezeOptions{BufferedStep: faultinject.CommitDiff, StoredStep: faultinject.CommitLayer})
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	cfg := o.Config
	cfg.Created = &now
	h := o.History
	if h.Created == nil {
		h.Created = &now
	}
	cfg.History = append(append([]v1.History(nil), cfg.History...), h)
	img, err := s.CreateImageFrom(NewImageOptions{TopLayer: layer.ID, Config: cfg, Names: names,
		WrittenStep: faultinject.CommitImage, NamedStep: faultinject.CommitNamed})
	if err != nil {
		if derr := s.DeleteLayer(layer.ID); derr != nil {
			err = fmt.Errorf("%w (and removing the new layer: %v)", err, derr)
		}
		return nil, err
	}
	return img, nil
}

// DockerImageConfig is ImageConfig with docker's additions to the OCI
// configuration (Healthcheck, OnBuild, Shell), which a build carries on.
func (s *Store) DockerImageConfig(id string) (*dockerspec.DockerOCIImage, error) {
	var cfg dockerspec.DockerOCIImage
	if err := s.decodeConfig(id, &cfg); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// BuildMeta is what build keeps in the metadata of an image it writes.
type BuildMeta struct {
	// CacheKey is the layer-cache key of the step that made the image.
	CacheKey string `json:"sandbox.build.cacheKey,omitempty"`
	// Intermediate marks a build step's image, which images does not list.
	Intermediate bool `json:"sandbox.build.intermediate,omitempty"`
	// Pending marks an image of a commit or a build that is not named
	// yet (CreateImageFrom): images does not list it, and the recovery
	// of a killed commit or build removes it.
	Pending bool `json:"sandbox.pending,omitempty"`
}

// String is the metadata as stored ("" for none).
func (m BuildMeta) String() string {
	if m == (BuildMeta{}) {
		return ""
	}
	data, err := json.Marshal(m)
	if err != nil {
		return ""
	}
	return string(data)
}

// ParseBuildMeta reads an image's metadata; any other (or none) is the
// zero BuildMeta.
func ParseBuildMeta(s string) BuildMeta {
	var m BuildMeta
	if s == "" || json.Unmarshal([]byte(s), &m) != nil {
		return BuildMeta{}
	}
	return m
}
