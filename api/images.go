package api

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"

	"sandbox/container"
	"sandbox/imagetools"
	"sandbox/storage"

	imagetypes "github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/jsonstream"
)

// imgErr gives a missing image docker's message.
func imgErr(ref string, err error) error {
	if isNoSuchImage(err) {
		return notFound("No such image: %s", ref)
	}
	return err
}

func (s *Server) imageSummaries() ([]imagetypes.Summary, error) {
	list, err := s.rt.Store.ListImages(false)
	if err != nil {
		return nil, err
	}
	byID := map[string]int{}
	out := []imagetypes.Summary{}
	for _, i := range list {
		idx, ok := byID[i.ID]
		if !ok {
			idx = len(out)
			byID[i.ID] = idx
			out = append(out, imagetypes.Summary{
				ID: "sha256:" + i.ID, Created: i.Created.Unix(), Size: i.Size, Containers: -1, SharedSize: -1,
				Labels: map[string]string{}, RepoTags: []string{}, RepoDigests: []string{},
			})
		}
		if i.Repository != "<none>" {
			out[idx].RepoTags = append(out[idx].RepoTags, storage.FamiliarName(i.Repository)+":"+i.Tag)
		}
	}
	return out, nil
}

func (s *Server) listImages(w http.ResponseWriter, r *http.Request) error {
	args, err := parseFilters(r)
	if err != nil {
		return err
	}
	out, err := s.imageSummaries()
	if err != nil {
		return err
	}
	for key, vals := range args {
		if key != "reference" {
			return badRequest("invalid filter '%s'", key)
		}
		var kept []imagetypes.Summary
		for _, img := range out {
			for v := range vals {
				if matchesReference(img.RepoTags, v) {
					kept = append(kept, img)
					break
				}
			}
		}
		out = kept
	}
	if out == nil {
		out = []imagetypes.Summary{}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// matchesReference: a tag of the image is ref, or its repository is.
func matchesReference(tags []string, ref string) bool {
	for _, t := range tags {
		repo, _, _ := strings.Cut(t, ":")
		if t == ref || repo == ref {
			return true
		}
	}
	return false
}

// progress turns the lines the image helper prints into docker's JSON
// progress messages, one per line.
type progress struct {
	mu  sync.Mutex
	enc *json.Encoder
	w   http.ResponseWriter
	buf []byte
}

// progressMessage is a jsonstream message with the error string older
// clients read.
type progressMessage struct {
	jsonstream.Message
	ErrorMessage string `json:"error,omitempty"`
}

func newProgress(w http.ResponseWriter) *progress {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	flush(w)
	return &progress{enc: json.NewEncoder(w), w: w}
}

func (p *progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := strings.IndexByte(string(p.buf), '\n')
		if i < 0 {
			break
		}
		line := strings.TrimSpace(string(p.buf[:i]))
		p.buf = p.buf[i+1:]
		if line != "" {
			p.send(progressMessage{Message: jsonstream.Message{Status: line}})
		}
	}
	return len(b), nil
}

func (p *progress) status(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.send(progressMessage{Message: jsonstream.Message{Status: fmt.Sprintf(format, args...)}})
}

func (p *progress) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.send(progressMessage{Message: jsonstream.Message{Error: &jsonstream.Error{Message: err.Error()}}, ErrorMessage: err.Error()})
}

func (p *progress) send(m progressMessage) {
	p.enc.Encode(m) // the client may be gone: the work goes on
	flush(p.w)
}

// pullImage is images/create with fromImage: a pull, with docker's JSON
// progress stream.
func (s *Server) pullImage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if q.Get("fromSrc") != "" {
		return s.importImage(w, r)
	}
	ref := q.Get("fromImage")
	if ref == "" {
		return badRequest("fromImage or fromSrc is required")
	}
	if tag := q.Get("tag"); tag != "" {
		if strings.HasPrefix(tag, "sha256:") {
			ref += "@" + tag
		} else {
			ref += ":" + tag
		}
	}
	if p := q.Get("platform"); p != "" && p != "linux" && !strings.HasPrefix(p, "linux/") {
		return badRequest("platform %q is not supported: want linux", p)
	}
	named, err := storage.NormalizeName(ref)
	if err != nil {
		return badRequest("invalid reference format: %v", err)
	}
	p := newProgress(w)
	p.status("Pulling from %s", named.FamiliarName())
	if err := s.rt.Store.Pull(r.Context(), ref, storage.PullOptions{Progress: p}); err != nil {
		p.fail(err)
		return nil
	}
	img, err := s.rt.Store.ResolveImage(named.String())
	if err != nil {
		p.fail(err)
		return nil
	}
	p.status("Digest: %s", img.Digest)
	p.status("Status: Downloaded newer image for %s", named.FamiliarString())
	return nil
}

// importImage is images/create with fromSrc=-: the body is a tarball of
// a root filesystem.
func (s *Server) importImage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if q.Get("fromSrc") != "-" {
		return badRequest("fromSrc %q: only - (the request body) is supported", q.Get("fromSrc"))
	}
	name := q.Get("repo")
	if tag := q.Get("tag"); name != "" && tag != "" {
		name += ":" + tag
	}
	req := storage.TransferRequest{Op: storage.OpImport, File: "-", Ref: name, Changes: q["changes"], Message: q.Get("message"), Quiet: true}
	p := newProgress(w)
	res, err := s.rt.Store.Transfer(r.Context(), req, storage.TransferIO{In: r.Body})
	if err != nil {
		p.fail(err)
		return nil
	}
	for _, id := range res.IDs {
		p.status("sha256:%s", id)
	}
	return nil
}

// imageGet answers GET /images/NAME/json and /images/NAME/history.
func (s *Server) imageGet(w http.ResponseWriter, r *http.Request) error {
	rest := r.PathValue("rest")
	switch {
	case strings.HasSuffix(rest, "/json"):
		ref := strings.TrimSuffix(rest, "/json")
		in, err := s.rt.Store.InspectImage(r.Context(), ref)
		if err != nil {
			return imgErr(ref, err)
		}
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		var out imagetypes.InspectResponse
		if err := json.Unmarshal(data, &out); err != nil {
			return fmt.Errorf("inspect image %s: %w", ref, err)
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	case strings.HasSuffix(rest, "/history"):
		ref := strings.TrimSuffix(rest, "/history")
		steps, err := imagetools.History(r.Context(), s.rt, ref)
		if err != nil {
			return imgErr(ref, err)
		}
		out := make([]imagetypes.HistoryResponseItem, 0, len(steps))
		for _, st := range steps {
			id := st.ID
			if id != "<missing>" && !strings.HasPrefix(id, "sha256:") {
				id = "sha256:" + id
			}
			out = append(out, imagetypes.HistoryResponseItem{ID: id, Created: st.Created.Unix(), CreatedBy: st.CreatedBy, Size: st.Size, Tags: st.Tags, Comment: st.Comment})
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	case strings.HasSuffix(rest, "/get"):
		return s.saveImage(w, r, []string{strings.TrimSuffix(rest, "/get")})
	}
	return notFound("page not found")
}

// imagePost answers POST /images/NAME/tag and /images/NAME/push.
func (s *Server) imagePost(w http.ResponseWriter, r *http.Request) error {
	rest := r.PathValue("rest")
	q := r.URL.Query()
	switch {
	case strings.HasSuffix(rest, "/tag"):
		ref := strings.TrimSuffix(rest, "/tag")
		target := q.Get("repo")
		if target == "" {
			return badRequest("repo is required")
		}
		if tag := q.Get("tag"); tag != "" {
			target += ":" + tag
		}
		if err := s.rt.Store.Tag(ref, []string{target}); err != nil {
			return imgErr(ref, err)
		}
		w.WriteHeader(http.StatusCreated)
		return nil
	case strings.HasSuffix(rest, "/push"):
		ref := strings.TrimSuffix(rest, "/push")
		if tag := q.Get("tag"); tag != "" {
			ref += ":" + tag
		}
		if _, err := s.rt.Store.ResolveImage(ref); err != nil {
			return imgErr(ref, err)
		}
		p := newProgress(w)
		named, err := storage.NormalizeName(ref)
		if err != nil {
			p.fail(err)
			return nil
		}
		p.status("The push refers to repository [%s]", named.Repository())
		req := storage.TransferRequest{Op: storage.OpPush, Ref: ref}
		if _, err := s.rt.Store.Transfer(r.Context(), req, storage.TransferIO{Progress: p}); err != nil {
			p.fail(err)
			return nil
		}
		img, err := s.rt.Store.ResolveImage(ref)
		if err == nil {
			p.status("%s: digest: %s", named.WithDefaultTag().Tag, img.Digest)
		}
		return nil
	}
	return notFound("page not found")
}

func (s *Server) removeImage(w http.ResponseWriter, r *http.Request) error {
	ref := r.PathValue("rest")
	rep, err := s.rt.RemoveImage(r.Context(), ref, boolParam(r, "force"))
	if errors.Is(err, container.ErrImageInUse) {
		return conflict("%v", err)
	}
	if err != nil {
		return imgErr(ref, err)
	}
	out := []imagetypes.DeleteResponse{}
	for _, u := range rep.Untagged {
		out = append(out, imagetypes.DeleteResponse{Untagged: storage.FamiliarName(u)})
	}
	for _, d := range rep.Deleted {
		out = append(out, imagetypes.DeleteResponse{Deleted: "sha256:" + d})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) saveImages(w http.ResponseWriter, r *http.Request) error {
	return s.saveImage(w, r, r.URL.Query()["names"])
}

// saveImage streams a docker-archive of the images named.
func (s *Server) saveImage(w http.ResponseWriter, r *http.Request, refs []string) error {
	if len(refs) != 1 {
		return badRequest("names: saving %d images at once is not supported: name one", len(refs))
	}
	if _, err := s.rt.Store.ResolveImage(refs[0]); err != nil {
		return imgErr(refs[0], err)
	}
	dir, err := os.MkdirTemp("", "sandbox-save-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	file := dir + "/image.tar"
	req := storage.TransferRequest{Op: storage.OpSave, Ref: refs[0], File: file, Format: "docker-archive", Quiet: true}
	if _, err := s.rt.Store.Transfer(r.Context(), req, storage.TransferIO{}); err != nil {
		return err
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	w.Header().Set("Content-Type", "application/x-tar")
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, f); err != nil && r.Context().Err() == nil {
		s.log.Printf("save %s: %v", refs[0], err)
	}
	return nil
}

// loadImages reads a docker-archive or oci-archive from the body.
func (s *Server) loadImages(w http.ResponseWriter, r *http.Request) error {
	dir, err := os.MkdirTemp("", "sandbox-load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	file := dir + "/image.tar"
	f, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, bufio.NewReader(r.Body))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return badRequest("read the archive: %v", err)
	}
	p := newProgress(w)
	res, err := s.rt.Store.Transfer(r.Context(), storage.TransferRequest{Op: storage.OpLoad, File: file, Quiet: true}, storage.TransferIO{})
	if err != nil {
		p.fail(err)
		return nil
	}
	for _, n := range res.Names {
		p.send(progressMessage{Message: jsonstream.Message{Stream: "Loaded image: " + storage.FamiliarName(n) + "\n"}})
	}
	if len(res.Names) == 0 {
		for _, id := range res.IDs {
			p.send(progressMessage{Message: jsonstream.Message{Stream: "Loaded image ID: sha256:" + id + "\n"}})
		}
	}
	return nil
}
