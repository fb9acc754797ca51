package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path"
	"sort"
	"strings"
	"sync"

	"sandbox/build"
	"sandbox/build/buildopt"
	"sandbox/spec"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/moby/moby/api/types/jsonstream"
)

// buildStream turns the builder's output into docker's build stream:
// {"stream": ...} a line each, {"aux": {"ID": ...}} for the image, and
// {"error": ..., "errorDetail": ...} for a failure.
type buildStream struct {
	mu  sync.Mutex
	w   http.ResponseWriter
	enc *json.Encoder
	buf []byte
}

func (b *buildStream) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	for {
		i := strings.IndexByte(string(b.buf), '\n')
		if i < 0 {
			break
		}
		line := string(b.buf[:i+1])
		b.buf = b.buf[i+1:]
		b.send(progressMessage{Message: jsonstream.Message{Stream: line}})
	}
	return len(p), nil
}

// send writes one message; b.mu is held.
func (b *buildStream) send(m progressMessage) {
	b.enc.Encode(m) // the client may be gone: the build ends by its context
	flush(b.w)
}

// finish sends what is left of a line, then m.
func (b *buildStream) finish(m progressMessage) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.buf) > 0 {
		b.send(progressMessage{Message: jsonstream.Message{Stream: string(b.buf)}})
		b.buf = nil
	}
	b.send(m)
}

// refuseBuildParams names the first build parameter sandbox cannot
// honour, before the context is read.
func refuseBuildParams(r *http.Request) error {
	q := r.URL.Query()
	switch {
	case q.Get("remote") != "":
		return badRequest("remote: a build context by URL is not supported: send the context as the body")
	case q.Get("platform") != "" && !strings.HasPrefix(q.Get("platform"), "linux"):
		return badRequest("platform %q is not supported: want linux", q.Get("platform"))
	case q.Get("squash") != "" && boolParam(r, "squash"):
		return badRequest("squash is not supported")
	case q.Get("isolation") != "" && q.Get("isolation") != "default":
		return badRequest("isolation %q is not supported", q.Get("isolation"))
	case q.Get("extrahosts") != "" || q.Get("shmsize") != "" && q.Get("shmsize") != "0":
		return badRequest("extrahosts and shmsize are not supported in builds")
	case q.Get("version") == "2":
		return badRequest("version 2 (BuildKit) builds are not supported: use the classic builder (DOCKER_BUILDKIT=0)")
	}
	return nil
}

// buildOptions are the build's options from the request's parameters,
// the Dockerfile found inside the context dir.
func buildOptions(r *http.Request, dir string) (buildopt.Options, error) {
	q := r.URL.Query()
	o := buildopt.Options{ContextDir: dir, Tags: q["t"], Target: q.Get("target"), NoCache: boolParam(r, "nocache"), Quiet: boolParam(r, "q")}
	if p := q.Get("pull"); p != "" && boolParam(r, "pull") {
		o.Pull = "always"
	}
	if m := q.Get("networkmode"); m != "" && m != "default" {
		o.Network = m
	}
	if df := q.Get("dockerfile"); df != "" {
		if path.IsAbs(df) {
			return o, badRequest("dockerfile %q: the Dockerfile's path is relative to the context", df)
		}
		p, err := securejoin.SecureJoin(dir, df)
		if err != nil {
			return o, badRequest("dockerfile %q: %v", df, err)
		}
		o.Dockerfile = p
	}
	if raw := q.Get("buildargs"); raw != "" {
		var args map[string]*string
		if err := json.Unmarshal([]byte(raw), &args); err != nil {
			return o, badRequest("invalid buildargs %q: %v", raw, err)
		}
		for _, k := range sortedKeys(args) {
			// A value the client left nil is unset: not the service's
			// environment.
			if v := args[k]; v != nil {
				o.BuildArgs = append(o.BuildArgs, k+"="+*v)
			}
		}
	}
	if raw := q.Get("labels"); raw != "" {
		var labels map[string]string
		if err := json.Unmarshal([]byte(raw), &labels); err != nil {
			return o, badRequest("invalid labels %q: %v", raw, err)
		}
		for k, v := range labels {
			o.Labels = append(o.Labels, k+"="+v)
		}
		sort.Strings(o.Labels)
	}
	return o, nil
}

// buildImage is docker's classic build: the request's body is the
// context as a tar; the build is the same engine call as `sandbox
// build`, its output in docker's JSON stream.
func (s *Server) buildImage(w http.ResponseWriter, r *http.Request) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && ct != "application/x-tar" && ct != "application/tar" {
		return badRequest("Content-Type %q: the build context is a tar (application/x-tar)", ct)
	}
	if err := refuseBuildParams(r); err != nil {
		return err
	}
	tr, err := build.Begin(r.Context(), s.rt)
	if err != nil {
		return err
	}
	defer func() {
		if err := tr.End(); err != nil {
			s.log.Printf("build: %v", err)
		}
	}()
	dir, remove, err := build.ContextFromStream(s.rt.Store, r.Body)
	if err != nil {
		return badRequest("the build context: %v", err)
	}
	defer func() {
		if err := remove(); err != nil {
			s.log.Printf("build: remove the context: %v", err)
		}
	}()
	o, err := buildOptions(r, dir)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	flush(w)
	out := &buildStream{w: w, enc: json.NewEncoder(w)}
	o.Out, o.Err = out, out
	// The build ends with the request: a client that goes away stops it,
	// and its build container is removed.
	res, err := build.Build(r.Context(), s.rt, o)
	if err != nil {
		msg := err.Error()
		code := spec.ExitSandbox
		var coded interface{ ExitCode() int }
		if errors.As(err, &coded) {
			code = coded.ExitCode()
		}
		out.finish(progressMessage{Message: jsonstream.Message{Error: &jsonstream.Error{Code: code, Message: msg}}, ErrorMessage: msg})
		return nil
	}
	aux, err := json.Marshal(map[string]string{"ID": "sha256:" + res.ID})
	if err != nil {
		return err
	}
	raw := json.RawMessage(aux)
	out.finish(progressMessage{Message: jsonstream.Message{Aux: &raw}})
	if o.Quiet {
		out.finish(progressMessage{Message: jsonstream.Message{Stream: "sha256:" + res.ID + "\n"}})
	} else {
		out.finish(progressMessage{Message: jsonstream.Message{Stream: fmt.Sprintf("Successfully built %.12s\n", res.ID)}})
	}
	return nil
}
