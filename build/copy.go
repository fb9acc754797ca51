package build

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"sandbox/imageuser"
	"sandbox/internal/cleanup"
	"sandbox/internal/faultinject"
	"sandbox/storage"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/opencontainers/go-digest"
)

// copyRequest is a COPY or ADD, expanded.
type copyRequest struct {
	sources      []string
	dest, from   string
	chown, chmod string
	add          bool
	text         string
}

// source is one path a COPY copies: abs on the host, rel to its root.
type source struct {
	abs, rel string
	info     fs.FileInfo
}

// copy runs a COPY or ADD: the sources, from the context or another
// stage or image, into a new layer on the stage's.
func (b *builder) copy(ctx context.Context, st *stage, r copyRequest) (retErr error) {
	undo := cleanup.Make(func() {})
	defer undo.Clean()
	root, fromContext, err := b.copyRoot(ctx, st, r.from, &undo)
	if err != nil {
		return err
	}
	srcs, err := b.matchSources(root, fromContext, r)
	if err != nil {
		return err
	}
	sum, err := b.sourceDigest(srcs, fromContext)
	if err != nil {
		return err
	}
	createdBy := nop(fmt.Sprintf("%s %s in %s", strings.ToUpper(map[bool]string{true: "add", false: "copy"}[r.add]), sum, r.dest))
	st.key = st.keyWith(r.text, sum)
	if b.cached(st, createdBy) {
		return nil
	}
	dest, destDir := st.cleanDest(r.dest)
	if len(srcs) > 1 && !destDir {
		return fmt.Errorf("with more than one source, the destination %s must be a directory ending in /", r.dest)
	}
	layer, err := b.store.CreateLayer("", st.top, nil, "", true, nil)
	if err != nil {
		return fmt.Errorf("create layer: %w", err)
	}
	defer func() {
		if derr := b.store.DeleteLayer(layer.ID); derr != nil && retErr == nil {
			retErr = fmt.Errorf("remove the work layer: %w", derr)
		}
	}()
	mnt, err := b.store.Mount(layer.ID, "")
	if err != nil {
		return fmt.Errorf("mount layer: %w", err)
	}
	mounted := true
	defer func() {
		if mounted {
			if _, uerr := b.store.Unmount(layer.ID, true); uerr != nil && retErr == nil {
				retErr = fmt.Errorf("unmount layer: %w", uerr)
			}
		}
	}()
	faultinject.Step(faultinject.BuildCopying)
	w, err := newWriter(mnt, r, fromContext)
	if err == nil {
		w.b = b
	}
	if err != nil {
		return err
	}
	for _, s := range srcs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := w.place(s, dest, destDir); err != nil {
			return err
		}
	}
	if _, err := b.store.Unmount(layer.ID, true); err != nil {
		return fmt.Errorf("unmount layer: %w", err)
	}
	mounted = false
	frozen, err := b.store.FreezeLayer(ctx, layer.ID, storage.FreezeOptions{BufferedStep: faultinject.BuildDiff, StoredStep: faultinject.BuildLayer})
	if err != nil {
		return err
	}
	return b.commitLayer(st, frozen.ID, createdBy)
}

// copyRoot is where a COPY's sources are: the context, or the root of
// the --from stage or image, mounted until undo runs.
func (b *builder) copyRoot(ctx context.Context, st *stage, from string, undo *cleanup.Cleanup) (string, bool, error) {
	if from == "" {
		return b.o.ContextDir, true, nil
	}
	image := ""
	if j, ok := b.df.stageIndex(from, st.index); ok {
		prev := b.stages[j]
		if prev == nil || prev.image == "" {
			return "", false, fmt.Errorf("--from=%s: the stage has no files", from)
		}
		image = prev.image
	} else {
		img, err := b.baseImage(ctx, from)
		if err != nil {
			return "", false, fmt.Errorf("--from=%s: no such stage or image: %w", from, err)
		}
		image = img.ID
	}
	mnt, err := b.store.MountImage(image, []string{"ro"}, "")
	if err != nil {
		return "", false, fmt.Errorf("mount %.12s: %w", image, err)
	}
	undo.Add(func() {
		if _, err := b.store.UnmountImage(image, false); err != nil {
			fmt.Fprintf(b.errw, "WARN: unmount %.12s: %v\n", image, err)
		}
	})
	return mnt, false, nil
}

// matchSources expands the sources (globs included) under root; each
// must exist, stay inside root, and (in the context) not be ignored.
func (b *builder) matchSources(root string, fromContext bool, r copyRequest) ([]source, error) {
	where := "the build context"
	if !fromContext {
		where = "--from=" + r.from
	}
	var out []source
	for _, src := range r.sources {
		if strings.Contains(src, "://") || strings.HasPrefix(src, "git@") {
			return nil, fmt.Errorf("source %s: remote sources are not supported: download it in a RUN step, or put it in the context", src)
		}
		clean := filepath.Clean(filepath.FromSlash(src))
		if clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
			return nil, fmt.Errorf("source %s is outside %s", src, where)
		}
		rel := strings.TrimPrefix(filepath.Clean("/"+clean), "/")
		var rels []string
		if strings.ContainsAny(rel, "*?[") {
			matches, err := filepath.Glob(filepath.Join(root, rel))
			if err != nil {
				return nil, fmt.Errorf("source %s: %w", src, err)
			}
			for _, m := range matches {
				mr, err := filepath.Rel(root, m)
				if err != nil {
					return nil, err
				}
				rels = append(rels, mr)
			}
		} else {
			rels = []string{rel}
		}
		n := 0
		for _, rel := range rels {
			if fromContext {
				if ex, err := b.ignore.Excluded(rel); err != nil {
					return nil, err
				} else if ex && rel != "" {
					continue
				}
			}
			abs, err := securejoin.SecureJoin(root, rel)
			if err != nil {
				return nil, fmt.Errorf("source %s: %w", src, err)
			}
			info, err := os.Lstat(abs)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("source %s: %w", src, err)
			}
			out = append(out, source{abs: abs, rel: filepath.ToSlash(rel), info: info})
			n++
		}
		if n == 0 {
			return nil, fmt.Errorf("source %s not found in %s", src, where)
		}
	}
	return out, nil
}

// walk calls fn for s and, for a directory, everything under it that the
// ignore file leaves in (for the context), parents before children.
func (b *builder) walk(s source, fromContext bool, fn func(abs, rel string, info fs.FileInfo) error) error {
	if !s.info.IsDir() {
		return fn(s.abs, s.rel, s.info)
	}
	return filepath.Walk(s.abs, func(p string, info fs.FileInfo, err error) error {
		if err != nil {
			return err
		}
		sub, err := filepath.Rel(s.abs, p)
		if err != nil {
			return err
		}
		rel := path.Join(s.rel, filepath.ToSlash(sub))
		if fromContext && rel != s.rel {
			ex, err := b.ignore.Excluded(rel)
			if err != nil {
				return err
			}
			if ex {
				if info.IsDir() && !b.ignore.mayReinclude() {
					return filepath.SkipDir
				}
				return nil
			}
		}
		return fn(p, rel, info)
	})
}

// sourceDigest is the digest of what a COPY copies: each path (relative
// to its source), its mode, its owner when not from the context, its
// symlink target and its bytes. Times are left out: a touched file with
// the same content keeps the cache.
func (b *builder) sourceDigest(srcs []source, fromContext bool) (digest.Digest, error) {
	h := sha256.New()
	for _, s := range srcs {
		err := b.walk(s, fromContext, func(abs, rel string, info fs.FileInfo) error {
			part(h, rel)
			part(h, strconv.FormatUint(uint64(info.Mode()), 8))
			if st, ok := info.Sys().(*syscall.Stat_t); ok && !fromContext {
				part(h, fmt.Sprintf("%d:%d", st.Uid, st.Gid))
			}
			switch {
			case info.Mode()&fs.ModeSymlink != 0:
				target, err := os.Readlink(abs)
				if err != nil {
					return err
				}
				part(h, target)
			case info.Mode().IsRegular():
				f, err := os.Open(abs)
				if err != nil {
					return err
				}
				fh := sha256.New()
				_, err = io.Copy(fh, f)
				f.Close()
				if err != nil {
					return fmt.Errorf("read %s: %w", rel, err)
				}
				part(h, string(fh.Sum(nil)))
			}
			return nil
		})
		if err != nil {
			return "", fmt.Errorf("source %s: %w", s.rel, err)
		}
	}
	return digest.NewDigest(digest.SHA256, h), nil
}

// owner resolves --chown against the layer's /etc/passwd and /etc/group.
func owner(root, chown string) (uid, gid int, err error) {
	read := func(p string) []byte {
		full, err := securejoin.SecureJoin(root, p)
		if err != nil {
			return nil
		}
		data, err := os.ReadFile(full)
		if err != nil {
			return nil
		}
		return data
	}
	u, err := imageuser.ResolveUser(chown, imageuser.ParsePasswd(read("/etc/passwd")), imageuser.ParseGroup(read("/etc/group")))
	if err != nil {
		return 0, 0, fmt.Errorf("--chown=%s: %w", chown, err)
	}
	return int(u.UID), int(u.GID), nil
}
