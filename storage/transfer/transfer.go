// Package transfer moves images in and out of the store with
// containers/image: pull and push (registries), load and save
// (docker-archive, oci-archive), import (a root filesystem tarball). It is
// linked only into the image helper (cmd/sandbox-image): containers/image's
// copy package costs tens of milliseconds at every process start, which
// container start and exec must not pay.
package transfer

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"sandbox/internal/faultinject"
	"sandbox/storage"

	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/archive"
	"go.podman.io/image/v5/docker/reference"
	ociarchive "go.podman.io/image/v5/oci/archive"
	"go.podman.io/image/v5/pkg/compression"
	"go.podman.io/image/v5/signature"
	istorage "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/tarball"
	"go.podman.io/image/v5/transports"
	"go.podman.io/image/v5/transports/alltransports"
	"go.podman.io/image/v5/types"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// IO are the helper's streams: In for `import -`, Out for the command's
// output, Progress for progress lines.
type IO struct {
	In       io.Reader
	Out      io.Writer
	Progress io.Writer
}

// recorded reports whether a transfer of op holds a transfer record while
// it runs (storage.BeginTransfer): those that add to the store.
func recorded(op string) bool {
	return op == storage.OpPull || op == storage.OpLoad || op == storage.OpImport
}

// Run performs one request against an open store.
func Run(ctx context.Context, s *storage.Store, req *storage.TransferRequest, tio IO) (*storage.TransferResult, error) {
	t := &transfer{store: s, req: req, io: tio}
	if recorded(req.Op) {
		// What they add to the store must not outlive their kill.
		tr, err := s.BeginTransfer(string(req.Op))
		if err != nil {
			return nil, err
		}
		res, err := t.run(ctx)
		if eerr := tr.End(); err == nil && eerr != nil {
			return nil, eerr
		}
		return res, err
	}
	return t.run(ctx)
}

func (t *transfer) run(ctx context.Context) (*storage.TransferResult, error) {
	switch t.req.Op {
	case storage.OpPull:
		return t.pull(ctx)
	case storage.OpPush:
		return t.push(ctx)
	case storage.OpLoad:
		return t.load(ctx)
	case storage.OpSave:
		return t.save(ctx)
	case storage.OpImport:
		return t.importTarball(ctx)
	}
	return nil, fmt.Errorf("unknown transfer %q", t.req.Op)
}

type transfer struct {
	store *storage.Store
	req   *storage.TransferRequest
	io    IO
}

func (t *transfer) progress() io.Writer {
	if t.req.Quiet || t.io.Progress == nil {
		return nil
	}
	return t.io.Progress
}

// registryContext is the system context for a registry: TLS verification
// as --tls-verify says, and, as docker does, plain HTTP allowed for
// registries on loopback.
func (t *transfer) registryContext(named reference.Named) *types.SystemContext {
	// As podman does, REGISTRY_AUTH_FILE names the credentials when
	// --authfile does not; else containers-auth.json(5)'s places are read.
	auth := t.req.AuthFile
	if auth == "" {
		auth = os.Getenv("REGISTRY_AUTH_FILE")
	}
	sys := &types.SystemContext{AuthFilePath: auth}
	switch {
	case t.req.TLSVerify != nil:
		sys.DockerInsecureSkipTLSVerify = types.NewOptionalBool(!*t.req.TLSVerify)
	case isLoopback(reference.Domain(named)):
		sys.DockerInsecureSkipTLSVerify = types.OptionalBoolTrue
	}
	return sys
}

func isLoopback(domain string) bool {
	host := domain
	if h, _, err := net.SplitHostPort(domain); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// policy is the signature policy of containers-policy.json(5) where one is
// installed, else accept anything (there is nothing to verify against).
func policy() (*signature.PolicyContext, error) {
	p, err := signature.DefaultPolicy(nil)
	if errors.Is(err, fs.ErrNotExist) {
		p = &signature.Policy{Default: signature.PolicyRequirements{signature.NewPRInsecureAcceptAnything()}}
		err = nil
	}
	if err != nil {
		return nil, fmt.Errorf("signature policy: %w", err)
	}
	return signature.NewPolicyContext(p)
}

func (t *transfer) copy(ctx context.Context, dest, src types.ImageReference, srcSys, destSys *types.SystemContext) (err error) {
	pc, err := policy()
	if err != nil {
		return err
	}
	defer pc.Destroy()
	// Keep containers/image's blob cache beside the store, not podman's.
	cache := filepath.Join(filepath.Dir(t.store.Options.GraphRoot), "cache")
	if err := os.MkdirAll(cache, 0o700); err != nil {
		return fmt.Errorf("blob info cache: %w", err)
	}
	// The temporary files of a transfer into the store (a layer being
	// stored, an archive's blobs) go in a scratch directory of the store
	// rather than /var/tmp: one that a killed pull, load or import leaves
	// is removed by the next of them or system check --repair
	// (storage.ScratchDir). A push or save holds no transfer record (Run),
	// so its files stay in containers/image's default place.
	scratch := ""
	if recorded(t.req.Op) {
		if scratch, err = t.store.ScratchDir("copy-"); err != nil {
			return err
		}
		defer func() {
			if rerr := os.RemoveAll(scratch); rerr != nil && err == nil {
				err = fmt.Errorf("remove the transfer's scratch directory: %w", rerr)
			}
		}()
	}
	for _, sys := range []**types.SystemContext{&srcSys, &destSys} {
		if *sys == nil {
			*sys = &types.SystemContext{}
		}
		(*sys).BlobInfoCacheDir = cache
		(*sys).BigFilesTemporaryDir = scratch
	}
	faultinject.Step(t.step("begun"))
	_, err = copy.Image(ctx, pc, dest, src, &copy.Options{
		ReportWriter:   faultinject.Progress(t.progress(), t.step("")),
		SourceCtx:      srcSys,
		DestinationCtx: destSys,
	})
	if err == nil {
		faultinject.Step(t.step("stored"))
	}
	return err
}

// step names a step of this transfer (package faultinject): "pull." or
// "import." and what, for pulls and imports; "" for the others.
func (t *transfer) step(what string) string {
	switch t.req.Op {
	case storage.OpPull:
		return "pull." + what
	case storage.OpImport:
		return "import." + what
	}
	return ""
}

// storeRef is where src goes in the store: under named, or, without a
// name, under the id the store will give it (its config's digest).
func (t *transfer) storeRef(ctx context.Context, named reference.Named, src types.ImageReference) (types.ImageReference, error) {
	if named != nil {
		return istorage.Transport.NewStoreReference(t.store.Store, named, "")
	}
	img, err := src.NewImage(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", transports.ImageName(src), err)
	}
	defer img.Close()
	return istorage.Transport.NewStoreReference(t.store.Store, nil, img.ConfigInfo().Digest.Encoded())
}

func (t *transfer) imageID(ref types.ImageReference) (string, error) {
	img, err := istorage.Transport.GetStoreImage(t.store.Store, ref)
	if err != nil {
		return "", fmt.Errorf("find the image just written: %w", err)
	}
	return img.ID, nil
}

func (t *transfer) pull(ctx context.Context) (*storage.TransferResult, error) {
	named, err := normalizeName(t.req.Ref)
	if err != nil {
		return nil, err
	}
	src, err := docker.NewReference(named)
	if err != nil {
		return nil, err
	}
	dest, err := t.storeRef(ctx, named, src)
	if err != nil {
		return nil, err
	}
	if err := t.copy(ctx, dest, src, t.registryContext(named), nil); err != nil {
		return nil, err
	}
	id, err := t.imageID(dest)
	if err != nil {
		return nil, err
	}
	return &storage.TransferResult{IDs: []string{id}, Names: []string{named.String()}}, nil
}

func (t *transfer) push(ctx context.Context) (*storage.TransferResult, error) {
	img, err := t.store.ResolveImage(t.req.Ref)
	if err != nil {
		return nil, err
	}
	destName := t.req.Dest
	if destName == "" {
		destName = t.req.Ref
	}
	named, err := normalizeName(destName)
	if err != nil {
		return nil, err
	}
	src, err := istorage.Transport.NewStoreReference(t.store.Store, nil, img.ID)
	if err != nil {
		return nil, err
	}
	dest, err := docker.NewReference(named)
	if err != nil {
		return nil, err
	}
	if err := t.copy(ctx, dest, src, nil, t.registryContext(named)); err != nil {
		return nil, err
	}
	return &storage.TransferResult{IDs: []string{img.ID}, Names: []string{named.String()}}, nil
}

func (t *transfer) save(ctx context.Context) (*storage.TransferResult, error) {
	img, err := t.store.ResolveImage(t.req.Ref)
	if err != nil {
		return nil, err
	}
	src, err := istorage.Transport.NewStoreReference(t.store.Store, nil, img.ID)
	if err != nil {
		return nil, err
	}
	format := t.req.Format
	if format == "" {
		format = "docker-archive"
	}
	name := ""
	if named, err := normalizeName(t.req.Ref); err == nil && !strings.HasPrefix(img.ID, t.req.Ref) {
		name = ":" + reference.FamiliarString(named)
	}
	var dest types.ImageReference
	switch format {
	case "docker-archive", "oci-archive":
		dest, err = alltransports.ParseImageName(format + ":" + t.req.File + name)
	default:
		return nil, fmt.Errorf("invalid --format %q: want docker-archive or oci-archive", format)
	}
	if err != nil {
		return nil, fmt.Errorf("save to %s: %w", t.req.File, err)
	}
	if err := t.copy(ctx, dest, src, nil, nil); err != nil {
		return nil, err
	}
	return &storage.TransferResult{IDs: []string{img.ID}}, nil
}

// load reads a docker-archive (docker save) or an oci-archive.
func (t *transfer) load(ctx context.Context) (*storage.TransferResult, error) {
	kind, err := archiveKind(t.req.File)
	if err != nil {
		return nil, err
	}
	if kind == "oci" {
		return t.loadOCI(ctx)
	}
	r, err := archive.NewReader(nil, t.req.File)
	if err != nil {
		return nil, fmt.Errorf("read docker archive %s: %w", t.req.File, err)
	}
	defer r.Close()
	images, err := r.List()
	if err != nil {
		return nil, fmt.Errorf("read docker archive %s: %w", t.req.File, err)
	}
	res := &storage.TransferResult{}
	for _, refs := range images {
		if len(refs) == 0 {
			continue
		}
		src := refs[0]
		tags, err := r.ManifestTagsForReference(src)
		if err != nil {
			return nil, err
		}
		var named reference.Named
		if len(tags) > 0 {
			if named, err = normalizeName(tags[0]); err != nil {
				return nil, err
			}
		}
		dest, err := t.storeRef(ctx, named, src)
		if err != nil {
			return nil, err
		}
		if err := t.copy(ctx, dest, src, nil, nil); err != nil {
			return nil, err
		}
		id, err := t.imageID(dest)
		if err != nil {
			return nil, err
		}
		res.IDs = append(res.IDs, id)
		for _, tag := range tags {
			n, err := normalizeName(tag)
			if err != nil {
				return nil, err
			}
			if err := t.store.AddNames(id, []string{n.String()}); err != nil {
				return nil, fmt.Errorf("name image %s: %w", tag, err)
			}
			res.Names = append(res.Names, n.String())
		}
	}
	if len(res.IDs) == 0 {
		return nil, fmt.Errorf("docker archive %s holds no image", t.req.File)
	}
	return res, nil
}

func (t *transfer) loadOCI(ctx context.Context) (*storage.TransferResult, error) {
	src, err := ociarchive.NewReference(t.req.File, "")
	if err != nil {
		return nil, err
	}
	var named reference.Named
	if desc, err := ociarchive.LoadManifestDescriptor(src); err == nil {
		// A bare tag ("latest") is no name to use: the image loads unnamed.
		if n := desc.Annotations[v1.AnnotationRefName]; strings.ContainsAny(n, "/:") {
			if parsed, err := normalizeName(n); err == nil {
				named = parsed
			}
		}
	}
	dest, err := t.storeRef(ctx, named, src)
	if err != nil {
		return nil, err
	}
	if err := t.copy(ctx, dest, src, nil, nil); err != nil {
		return nil, err
	}
	id, err := t.imageID(dest)
	if err != nil {
		return nil, err
	}
	res := &storage.TransferResult{IDs: []string{id}}
	if named != nil {
		res.Names = []string{named.String()}
	}
	return res, nil
}

// archiveKind tells a docker-archive (manifest.json) from an oci-archive
// (index.json), looking through compression.
func archiveKind(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("open archive: %w", err)
	}
	defer f.Close()
	r, _, err := compression.AutoDecompress(f)
	if err != nil {
		return "", fmt.Errorf("read archive %s: %w", path, err)
	}
	defer r.Close()
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err != nil {
			return "", fmt.Errorf("%s is not a docker-archive or oci-archive (no manifest.json or index.json): %v", path, err)
		}
		switch strings.TrimPrefix(h.Name, "./") {
		case "manifest.json":
			return "docker", nil
		case "index.json", "oci-layout":
			return "oci", nil
		}
	}
}

// importTarball makes a one-layer image from a root filesystem tarball.
func (t *transfer) importTarball(ctx context.Context) (*storage.TransferResult, error) {
	file := t.req.File
	if file == "-" {
		tmp, err := os.CreateTemp("", "sandbox-import-*.tar")
		if err != nil {
			return nil, fmt.Errorf("buffer standard input: %w", err)
		}
		defer os.Remove(tmp.Name())
		_, err = io.Copy(tmp, t.io.In)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("buffer standard input: %w", err)
		}
		file = tmp.Name()
	}
	if _, err := os.Stat(file); err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	src, err := tarball.Transport.ParseReference(file)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", t.req.File, err)
	}
	now := time.Now().UTC()
	cfg := v1.Image{Created: &now, Platform: v1.Platform{OS: "linux", Architecture: runtime.GOARCH}}
	if err := storage.ApplyChanges(&cfg.Config, t.req.Changes); err != nil {
		return nil, err
	}
	comment := t.req.Message
	if comment == "" {
		comment = "imported from " + t.req.File
	}
	cfg.History = []v1.History{{Created: &now, CreatedBy: "sandbox import", Comment: comment}}
	updater, ok := src.(tarball.ConfigUpdater)
	if !ok {
		return nil, errors.New("tarball reference cannot take a configuration")
	}
	if err := updater.ConfigUpdate(cfg, nil); err != nil {
		return nil, err
	}
	var named reference.Named
	if t.req.Ref != "" {
		if named, err = normalizeName(t.req.Ref); err != nil {
			return nil, err
		}
	}
	dest, err := t.storeRef(ctx, named, src)
	if err != nil {
		return nil, err
	}
	if err := t.copy(ctx, dest, src, nil, nil); err != nil {
		return nil, fmt.Errorf("import %s: %w", t.req.File, err)
	}
	id, err := t.imageID(dest)
	if err != nil {
		return nil, err
	}
	res := &storage.TransferResult{IDs: []string{id}}
	if named != nil {
		res.Names = []string{named.String()}
	}
	return res, nil
}

// normalizeName is storage.NormalizeName as containers/image's reference
// type, which its transports take apart by type (tagged, digested).
func normalizeName(ref string) (reference.Named, error) {
	r, err := storage.NormalizeName(ref)
	if err != nil {
		return nil, err
	}
	named, err := reference.ParseNormalizedNamed(r.String())
	if err != nil {
		return nil, fmt.Errorf("invalid image reference %q: %w", ref, err)
	}
	return named, nil
}
