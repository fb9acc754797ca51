package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// The pull figures' registry: Debian's docker-registry (distribution 2.x)
// on a free loopback port, storing in a temporary directory, run as the
// user the bench runs as, for the length of the run.

// registry is a running docker-registry.
type registry struct {
	addr string // 127.0.0.1:PORT
	dir  string // its configuration and storage, removed by close
	cmd  *exec.Cmd
	logs *bytes.Buffer
}

// startRegistry starts bin on a free loopback port, with its storage in a
// new directory under parent, and waits until it accepts connections.
func startRegistry(bin, parent string) (r *registry, err error) {
	dir, err := os.MkdirTemp(parent, "bench-registry-")
	if err != nil {
		return nil, fmt.Errorf("registry directory: %w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, os.RemoveAll(dir))
		}
	}()
	// A free port: the kernel picks one, and it stays free in the moment
	// between closing it here and the registry binding it, in practice.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("find a free port: %w", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "config.yml")
	text := fmt.Sprintf("version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n",
		filepath.Join(dir, "storage"), addr)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return nil, err
	}
	r = &registry{addr: addr, dir: dir, logs: &bytes.Buffer{}}
	r.cmd = exec.Command(bin, "serve", conf)
	r.cmd.Stdout, r.cmd.Stderr = r.logs, r.logs
	// Should the bench itself be killed, the registry goes with it. (The
	// signal comes when the thread that started it ends; Go ends threads
	// only when a goroutine exits locked to one, which nothing here does.)
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := r.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return r, nil
		}
	}
	err = fmt.Errorf("%s did not listen on %s within 10 s: %s", bin, addr, r.logs.String())
	return nil, errors.Join(err, r.stop())
}

// stop kills the registry: it holds nothing that needs a clean shutdown,
// and its storage is removed next.
func (r *registry) stop() error {
	if err := r.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill docker-registry: %w", err)
	}
	// The exit status of a process just killed says it was killed;
	// anything else is an error.
	var ee *exec.ExitError
	if err := r.cmd.Wait(); err != nil && !errors.As(err, &ee) {
		return fmt.Errorf("wait for docker-registry: %w", err)
	}
	return nil
}

// close stops the registry and removes its storage.
func (r *registry) close() error {
	err := r.stop()
	if rerr := os.RemoveAll(r.dir); rerr != nil {
		err = errors.Join(err, fmt.Errorf("remove the registry's storage: %w", rerr))
	}
	return err
}

// startedRegistry starts the registry the first time a figure needs it.
func (e *environment) startedRegistry() (*registry, error) {
	err := e.once("registry", func() error {
		r, err := startRegistry(e.cfg.registry, e.cfg.workDir)
		if err != nil {
			return err
		}
		e.registry = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	return e.registry, nil
}

// pushed makes sure the registry holds sandbox's local image as remote
// (a reference without the registry's address, "bench/busybox:1"), and
// returns the full reference, "127.0.0.1:PORT/bench/busybox:1".
func (e *environment) pushed(ctx context.Context, local, remote string) (string, error) {
	r, err := e.startedRegistry()
	if err != nil {
		return "", err
	}
	ref := r.addr + "/" + remote
	err = e.once("push "+ref, func() error {
		if _, err := e.sandbox.output(ctx, "push", "-q", local, ref); err != nil {
			return fmt.Errorf("push to the bench's registry: %w", err)
		}
		return nil
	})
	return ref, err
}

// bigLayer describes the layer of the pull figure's bigger image.
const (
	bigLayerSize = 50 << 20 // bytes of file content
	bigLayerSeed = 20240611 // changing it changes the image: keep it, for runs to compare
)

// writeBigLayer writes to w a tarball of about size bytes of file content
// drawn from a PRNG with a fixed seed: the same bytes on every run and
// machine, so that every run pulls the same image. Half the files are
// text (words from a small vocabulary, which compresses about as well as
// source code), half random bytes (which does not compress, like the
// already compressed parts of real images); the files range from 4 KiB to
// 2 MiB.
func writeBigLayer(w io.Writer, size int64, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	tw := tar.NewWriter(w)
	mtime := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	header := func(name string, typ byte, mode, n int64) *tar.Header {
		return &tar.Header{Name: name, Typeflag: typ, Mode: mode, Size: n, ModTime: mtime, Format: tar.FormatPAX}
	}
	if err := tw.WriteHeader(header("data/", tar.TypeDir, 0o755, 0)); err != nil {
		return err
	}
	dir := ""
	for i, written := 0, int64(0); written < size; i++ {
		if i%64 == 0 {
			dir = fmt.Sprintf("data/%03d/", i/64)
			if err := tw.WriteHeader(header(dir, tar.TypeDir, 0o755, 0)); err != nil {
				return err
			}
		}
		n := min(4<<10+rng.Int64N(2<<20-4<<10), size-written)
		text := i%2 == 0
		name := fmt.Sprintf("%sf%04d.bin", dir, i)
		if text {
			name = fmt.Sprintf("%sf%04d.txt", dir, i)
		}
		if err := tw.WriteHeader(header(name, tar.TypeReg, 0o644, n)); err != nil {
			return err
		}
		bw := bufio.NewWriterSize(tw, 64<<10)
		if text {
			writeWords(bw, rng, n)
		} else {
			writeRandom(bw, rng, n)
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		written += n
	}
	return tw.Close()
}

var words = []string{
	"container", "image", "layer", "storage", "overlay", "mount", "namespace", "user",
	"process", "monitor", "runtime", "registry", "manifest", "config", "digest", "blob",
	"func", "return", "error", "nil", "if", "for", "range", "struct", "string", "int",
	"the", "a", "of", "to", "and", "in", "is", "that", "it", "with", "as", "on",
	"read", "write", "open", "close", "exec", "pid", "uid", "gid", "cgroup", "signal",
}

// writeWords writes n bytes of lines of words. Write errors stick in w,
// for its Flush to report.
func writeWords(w *bufio.Writer, rng *rand.Rand, n int64) {
	for col := 0; n > 0; {
		word := words[rng.IntN(len(words))]
		if int64(len(word)) >= n {
			w.WriteString(word[:n])
			return
		}
		w.WriteString(word)
		sep := byte(' ')
		if col += len(word) + 1; col > 72 {
			sep, col = '\n', 0
		}
		w.WriteByte(sep)
		n -= int64(len(word)) + 1
	}
}

// writeRandom writes n random bytes. Write errors stick in w, for its
// Flush to report.
func writeRandom(w *bufio.Writer, rng *rand.Rand, n int64) {
	var buf [8]byte
	for ; n > 0; n -= 8 {
		v := rng.Uint64()
		for i := range buf {
			buf[i] = byte(v >> (8 * i))
		}
		w.Write(buf[:min(n, 8)])
	}
}

// importBigImage makes the bigger image in sandbox's storage, as local:
// writes the layer's tarball under the work directory, imports it, and
// removes the tarball.
func (e *environment) importBigImage(ctx context.Context, local string) (err error) {
	f, err := os.CreateTemp(e.cfg.workDir, "bench-big-*.tar")
	if err != nil {
		return fmt.Errorf("big image's tarball: %w", err)
	}
	defer func() { err = errors.Join(err, removeFile(f.Name())) }()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := writeBigLayer(bw, bigLayerSize, bigLayerSeed); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", f.Name(), err)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", f.Name(), err)
	}
	if _, err := e.sandbox.output(ctx, "import", f.Name(), local); err != nil {
		return fmt.Errorf("import the big image: %w", err)
	}
	return nil
}
