package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"sandbox/build/buildopt"
	"sandbox/container"
	"sandbox/internal/faultinject"
	"sandbox/storage"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// Result is a finished build.
type Result struct {
	// ID is the image's id; Names the names it was given.
	ID    string
	Names []string
}

// builder is one build in progress.
type builder struct {
	rt    *container.Runtime
	store *storage.Store
	o     *buildopt.Options
	out   io.Writer
	errw  io.Writer
	// view is the compact view on a terminal (nil: plain lines).
	view   *compactView
	df     *dockerfile
	lex    *shell.Lex
	ignore *Ignore
	// args are the --build-arg values; used the ones some ARG took.
	args map[string]string
	used map[string]bool
	// meta are the ARGs before the first FROM, as NAME=VALUE.
	meta envList
	// cache maps a step's key to the image that step made.
	cache map[digest.Digest]string
	// stages are the stages built so far, by index.
	stages map[int]*stage
	// multi: more than one stage is built (steps are prefixed [i/n]).
	multi      bool
	nth, count int
}

// stage is the state of a stage being built.
type stage struct {
	index int
	// image is the image holding the stage's layers so far ("": none);
	// top its top layer.
	image, top string
	config     dockerspec.DockerOCIImage
	key        digest.Digest
	// args are the ARGs declared in the stage, with their values.
	args  map[string]string
	shell []string
	// cmdSet: the stage has a CMD of its own.
	cmdSet bool
	// step counts the stage's steps; steps is their number.
	step, steps int
}

// Begin removes what killed builds left (their RUN steps' containers,
// then, through the store's recovery of killed transfers, their layers,
// pending images and mounts) and records this build as a transfer, so
// that a kill of it is recovered from the same way. The caller ends the
// transfer when the build is over, and calls Build in between.
func Begin(ctx context.Context, rt *container.Runtime) (*storage.Transfer, error) {
	if _, err := rt.RemoveOrphanBuildContainers(ctx); err != nil {
		return nil, err
	}
	return rt.Store.BeginTransfer("build")
}

// Build builds an image from a Dockerfile (see buildopt.Options) and
// returns it. The caller holds a transfer record (Begin).
func Build(ctx context.Context, rt *container.Runtime, o buildopt.Options) (_ *Result, retErr error) {
	args, err := check(&o)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(o.ContextDir)
	if err != nil {
		return nil, fmt.Errorf("the build context %s: %w", o.ContextDir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("the build context %s is not a directory", o.ContextDir)
	}
	file, err := findDockerfile(o.ContextDir, o.Dockerfile)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	df, err := parseDockerfile(file, data)
	if err != nil {
		return nil, err
	}
	target, err := df.target(o.Target)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, t := range o.Tags {
		n, err := storage.NormalizeName(t)
		if err != nil {
			return nil, err
		}
		names = append(names, n.String())
	}
	ig, err := readIgnore(o.ContextDir)
	if err != nil {
		return nil, err
	}
	b := &builder{
		rt: rt, store: rt.Store, o: &o, out: orDiscard(o.Out), errw: orDiscard(o.Err),
		df: df, lex: shell.NewLex(df.escape), ignore: ig,
		args: args, used: map[string]bool{}, stages: map[int]*stage{},
	}
	if o.Quiet {
		b.out, b.errw = io.Discard, io.Discard
	} else if fd, ok := useCompact(o.Progress, o.Out); ok {
		b.view = newCompactView(b.out, fd)
		b.out, b.errw = b.view.output(b.out), b.view.output(b.errw)
		defer func() {
			if retErr != nil {
				b.view.fail()
			}
			b.view.end()
		}()
	}
	if err := b.metaArgs(); err != nil {
		return nil, err
	}
	order, err := b.plan(target)
	if err != nil {
		return nil, err
	}
	b.multi = len(order) > 1
	b.count = len(order)
	if b.cache, err = b.readCache(); err != nil {
		return nil, err
	}
	faultinject.Step(faultinject.BuildBegun)
	var last *stage
	for i, idx := range order {
		b.nth = i + 1
		if last, err = b.runStage(ctx, idx); err != nil {
			return nil, err
		}
	}
	id, err := b.finish(last, names)
	if err != nil {
		return nil, err
	}
	b.warnUnused()
	return &Result{ID: id, Names: names}, nil
}

// metaArgs resolves the ARGs before the first FROM.
func (b *builder) metaArgs() error {
	for _, a := range b.df.metaArgs {
		for _, kv := range a.Args {
			v, given := b.args[kv.Key]
			if given {
				b.used[kv.Key] = true
			} else if kv.Value != nil {
				var err error
				if v, _, err = b.lex.ProcessWord(*kv.Value, b.meta); err != nil {
					return fmt.Errorf("%s: ARG %s: %w", b.df.path, kv.Key, err)
				}
			} else {
				continue
			}
			b.meta = append(b.meta, kv.Key+"="+v)
		}
	}
	return nil
}

// baseName is a stage's FROM, expanded with the meta ARGs.
func (b *builder) baseName(s *instructions.Stage) (string, error) {
	name, _, err := b.lex.ProcessWord(s.BaseName, b.meta)
	if err != nil {
		return "", fmt.Errorf("%s: FROM %s: %w", b.df.path, s.BaseName, err)
	}
	if name == "" {
		return "", fmt.Errorf("%s: FROM %s: the base image name is empty", b.df.path, s.BaseName)
	}
	return name, nil
}

// plan orders the stages that target needs, each after those it uses
// (FROM a stage, COPY --from a stage).
func (b *builder) plan(target int) ([]int, error) {
	need := map[int]bool{}
	var visit func(i int) error
	visit = func(i int) error {
		if need[i] {
			return nil
		}
		need[i] = true
		s := &b.df.stages[i]
		base, err := b.baseName(s)
		if err != nil {
			return err
		}
		if j, ok := b.df.stageIndex(base, i); ok {
			if err := visit(j); err != nil {
				return err
			}
		}
		for _, c := range s.Commands {
			if cp, ok := c.(*instructions.CopyCommand); ok && cp.From != "" {
				if j, ok := b.df.stageIndex(cp.From, i); ok {
					if err := visit(j); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	if err := visit(target); err != nil {
		return nil, err
	}
	var order []int
	for i := range b.df.stages {
		if need[i] {
			order = append(order, i)
		}
	}
	return order, nil
}

// readCache indexes the images earlier builds made by their keys.
func (b *builder) readCache() (map[digest.Digest]string, error) {
	imgs, err := b.store.Images()
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	sort.Slice(imgs, func(i, j int) bool { return imgs[i].Created.Before(imgs[j].Created) })
	cache := map[digest.Digest]string{}
	for _, img := range imgs {
		if m := storage.ParseBuildMeta(img.Metadata); m.CacheKey != "" && !m.Pending {
			cache[digest.Digest(m.CacheKey)] = img.ID // the newest wins
		}
	}
	return cache, nil
}

// printStep prints a step's line, podman's shape.
func (b *builder) printStep(st *stage, text string) {
	st.step++
	line := fmt.Sprintf("STEP %d/%d: %s", st.step, st.steps, text)
	if b.multi {
		line = fmt.Sprintf("[%d/%d] %s", b.nth, b.count, line)
	}
	b.stepLine(line)
}

// stepLine shows a step: a line of its own, or the compact view's
// current step.
func (b *builder) stepLine(line string) {
	if b.view != nil {
		b.view.step(line)
		return
	}
	fmt.Fprintln(b.out, line)
}

// idLine prints the image id a step made (not in the compact view).
func (b *builder) idLine(id string) {
	if b.view == nil {
		fmt.Fprintf(b.out, "--> %.12s\n", id)
	}
}

// runStage builds one stage.
func (b *builder) runStage(ctx context.Context, idx int) (*stage, error) {
	s := &b.df.stages[idx]
	st := &stage{index: idx, args: map[string]string{}, shell: []string{"/bin/sh", "-c"}, steps: len(s.Commands) + 1}
	b.printStep(st, s.SourceCode)
	if err := b.from(ctx, s, st); err != nil {
		return nil, err
	}
	for _, c := range s.Commands {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b.printStep(st, sourceOf(c))
		if err := b.step(ctx, st, c); err != nil {
			return nil, stepError(b.df.path, c, err)
		}
	}
	b.stages[idx] = st
	return st, nil
}

// sourceOf is an instruction's text as written.
func sourceOf(c instructions.Command) string {
	if s, ok := c.(fmt.Stringer); ok {
		return s.String()
	}
	return c.Name()
}

// stepError names the step that failed, unless the error does already.
func stepError(file string, c instructions.Command, err error) error {
	var ee *runError
	if errors.As(err, &ee) || errors.Is(err, context.Canceled) {
		return err
	}
	line := 0
	if loc := c.Location(); len(loc) > 0 {
		line = loc[0].Start.Line
	}
	return fmt.Errorf("%s:%d: %s: %w", file, line, strings.ToUpper(c.Name()), err)
}

// from starts a stage: from an earlier stage, nothing (scratch) or an
// image, pulled as --pull says.
func (b *builder) from(ctx context.Context, s *instructions.Stage, st *stage) error {
	base, err := b.baseName(s)
	if err != nil {
		return err
	}
	if j, ok := b.df.stageIndex(base, st.index); ok {
		prev := b.stages[j]
		st.image, st.top, st.key = prev.image, prev.top, prev.key
		st.config = cloneConfig(prev.config)
		st.shell = append([]string(nil), prev.shell...)
		return nil
	}
	if strings.EqualFold(base, "scratch") {
		st.key = fromKey("")
		st.config = dockerspec.DockerOCIImage{Image: v1.Image{Platform: v1.Platform{OS: "linux", Architecture: goarch()}}}
		return nil
	}
	img, err := b.baseImage(ctx, base)
	if err != nil {
		return err
	}
	cfg, err := b.store.DockerImageConfig(img.ID)
	if err != nil {
		return err
	}
	st.image, st.top, st.key, st.config = img.ID, img.TopLayer, fromKey(img.ID), *cfg
	if len(cfg.Config.Shell) > 0 {
		st.shell = append([]string(nil), cfg.Config.Shell...)
	}
	return nil
}

// baseImage finds (or pulls) a FROM image.
func (b *builder) baseImage(ctx context.Context, ref string) (*storage.Image, error) {
	mode := pullMode(b.o)
	if mode != container.PullAlways {
		img, err := b.store.ResolveImage(ref)
		if err == nil {
			return img, nil
		}
		if !errors.Is(err, storage.ErrNoSuchImage) {
			return nil, err
		}
		if mode == container.PullNever {
			return nil, fmt.Errorf("FROM %s: the image is not in the store and --pull=never", ref)
		}
	}
	var progress io.Writer
	if !b.o.Quiet {
		progress = b.errw
	}
	if err := b.store.Pull(ctx, ref, storage.PullOptions{Progress: progress}); err != nil {
		return nil, fmt.Errorf("FROM %s: %w", ref, err)
	}
	return b.store.ResolveImage(ref)
}

// cloneConfig is a deep enough copy for a stage to change its own.
func cloneConfig(c dockerspec.DockerOCIImage) dockerspec.DockerOCIImage {
	out := c
	out.Config.Env = append([]string(nil), c.Config.Env...)
	out.History = append([]v1.History(nil), c.History...)
	if c.Config.Labels != nil {
		out.Config.Labels = map[string]string{}
		for k, v := range c.Config.Labels {
			out.Config.Labels[k] = v
		}
	}
	if c.Config.ExposedPorts != nil {
		out.Config.ExposedPorts = map[string]struct{}{}
		for k := range c.Config.ExposedPorts {
			out.Config.ExposedPorts[k] = struct{}{}
		}
	}
	if c.Config.Volumes != nil {
		out.Config.Volumes = map[string]struct{}{}
		for k := range c.Config.Volumes {
			out.Config.Volumes[k] = struct{}{}
		}
	}
	return out
}

// scopeArgs are the stage's ARGs as NAME=VALUE, sorted, for the cache
// key and RUN's environment.
func (st *stage) scopeArgs() []string {
	var out []string
	for k, v := range st.args {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// expandEnv is what words are expanded with: the stage's ARGs, then its
// ENV, which wins.
func (st *stage) expandEnv() envList {
	return append(envList(st.scopeArgs()), st.config.Config.Env...)
}

// history records a step in the image's history.
func (st *stage) history(createdBy string, empty bool) {
	now := time.Now().UTC()
	st.config.History = append(st.config.History, v1.History{Created: &now, CreatedBy: createdBy, EmptyLayer: empty})
}

// commitLayer makes layer the stage's new top: an intermediate image
// holding it (cache for later builds under st.key), with the history
// entry createdBy.
func (b *builder) commitLayer(st *stage, layer, createdBy string) error {
	st.history(createdBy, false)
	now := time.Now().UTC()
	cfg := cloneConfig(st.config)
	cfg.Created = &now
	img, err := b.store.CreateImageFrom(storage.NewImageOptions{
		TopLayer: layer, Config: cfg,
		Meta: storage.BuildMeta{CacheKey: st.key.String(), Intermediate: true},
	})
	if err != nil {
		if derr := b.store.DeleteLayer(layer); derr != nil {
			err = fmt.Errorf("%w (and removing the layer: %v)", err, derr)
		}
		return err
	}
	faultinject.Step(faultinject.BuildStep)
	st.image, st.top = img.ID, layer
	b.cache[st.key] = img.ID
	b.idLine(img.ID)
	return nil
}

// cached uses the image an earlier build made for st.key, if there is
// one on the stage's current top layer.
func (b *builder) cached(st *stage, createdBy string) bool {
	if b.o.NoCache {
		return false
	}
	id, ok := b.cache[st.key]
	if !ok {
		return false
	}
	img, err := b.store.Image(id)
	if err != nil || img.TopLayer == "" {
		return false
	}
	l, err := b.store.Layer(img.TopLayer)
	if err != nil || l.Parent != st.top {
		return false
	}
	if b.view != nil {
		b.view.cachedStep()
	} else {
		fmt.Fprintf(b.out, "--> Using cache %s\n", img.ID)
	}
	st.history(createdBy, false)
	st.image, st.top = img.ID, img.TopLayer
	b.idLine(img.ID)
	return true
}

// finish writes the target stage's image (or finds it in the cache) and
// names it.
func (b *builder) finish(st *stage, names []string) (string, error) {
	cfg := cloneConfig(st.config)
	if len(b.o.Labels) > 0 && cfg.Config.Labels == nil {
		cfg.Config.Labels = map[string]string{}
	}
	for _, l := range b.o.Labels {
		k, v, _ := strings.Cut(l, "=")
		cfg.Config.Labels[k] = v
	}
	key := finalKey(st.key, b.o.Labels)
	line := strings.TrimSpace("COMMIT " + strings.Join(b.o.Tags, " "))
	if b.multi {
		line = fmt.Sprintf("[%d/%d] %s", b.count, b.count, line)
	}
	b.stepLine(line)
	var id string
	if cached, ok := b.cache[key]; ok && !b.o.NoCache {
		if img, err := b.store.Image(cached); err == nil && img.TopLayer == st.top {
			id = img.ID
			if len(names) > 0 {
				if err := b.store.AddNames(id, names); err != nil {
					return "", fmt.Errorf("name image %.12s: %w", id, err)
				}
			}
			faultinject.Step(faultinject.BuildNamed)
		}
	}
	if id == "" {
		now := time.Now().UTC()
		cfg.Created = &now
		img, err := b.store.CreateImageFrom(storage.NewImageOptions{
			TopLayer: st.top, Config: cfg, Names: names,
			Meta:        storage.BuildMeta{CacheKey: key.String()},
			WrittenStep: faultinject.BuildImage, NamedStep: faultinject.BuildNamed,
		})
		if err != nil {
			return "", err
		}
		id = img.ID
	}
	if b.view != nil {
		b.view.end()
	}
	fmt.Fprintf(b.out, "--> %.12s\n", id)
	for _, n := range names {
		fmt.Fprintf(b.out, "Successfully tagged %s\n", n)
	}
	return id, nil
}

// warnUnused warns of --build-arg values no ARG took, as docker does.
func (b *builder) warnUnused() {
	var unused []string
	for k := range b.args {
		if !b.used[k] && !proxyArgs[k] {
			unused = append(unused, k)
		}
	}
	if len(unused) > 0 {
		sort.Strings(unused)
		fmt.Fprintf(b.errw, "[Warning] one or more build args were not consumed: %v\n", unused)
	}
}

// resolveWorkdir is a WORKDIR or COPY destination made absolute against
// the stage's working directory.
func (st *stage) resolvePath(p string) string {
	if path.IsAbs(p) {
		return p
	}
	wd := st.config.Config.WorkingDir
	if wd == "" {
		wd = "/"
	}
	return path.Join(wd, p)
}
