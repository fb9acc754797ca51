package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"sandbox/container"
	"sandbox/storage"
)

// API versions served: MinVersion through MaxVersion, the newest that the
// types of github.com/moby/moby/api describe.
const (
	MinVersion = "1.24"
	MaxVersion = "1.57"
)

// maxJSONBody bounds the JSON body of a request.
const maxJSONBody = 4 << 20

// Options configure a Server.
type Options struct {
	// Runtime is the engine every request calls.
	Runtime *container.Runtime
	// Version is sandbox's version, for /version and /info.
	Version string
	// Log receives one line per bad request and per failure; nil is
	// standard error.
	Log *log.Logger
	// Idle ends Serve once no request has been open for that long; zero
	// never does.
	Idle time.Duration
}

// Server is the API on one engine.
type Server struct {
	rt      *container.Runtime
	version string
	log     *log.Logger
	idle    time.Duration
	mux     *http.ServeMux
	// trace logs every request (SANDBOX_API_TRACE=1).
	trace bool

	// active counts the requests being served (streams included);
	// last is when the count last fell to zero, in Unix nanoseconds.
	active atomic.Int64
	last   atomic.Int64

	// mu guards live, pending, starting and execs.
	mu sync.Mutex
	// live are the containers whose monitor stream this server holds:
	// those it started, and those it attached to. By container id.
	live map[string]*liveContainer
	// pending are attach sessions waiting for their container to start.
	pending map[string][]*session
	// starting are the starts in progress, by container id: each channel
	// is closed once its start is in live or has failed. A short
	// container can exit and be removed before its start returns.
	starting map[string]chan struct{}
	// execs are the exec instances created, by exec id.
	execs map[string]*execInstance
}

// New returns a server on o.Runtime.
func New(o Options) *Server {
	s := &Server{
		rt: o.Runtime, version: o.Version, log: o.Log, idle: o.Idle,
		live: map[string]*liveContainer{}, pending: map[string][]*session{}, execs: map[string]*execInstance{},
		starting: map[string]chan struct{}{},
	}
	s.trace = os.Getenv("SANDBOX_API_TRACE") == "1"
	if s.log == nil {
		s.log = log.Default()
	}
	s.last.Store(time.Now().UnixNano())
	s.mux = http.NewServeMux()
	s.routes()
	return s
}

// Serve answers on l until ctx ends or the service has been idle for
// Options.Idle; then it stops listening and waits for open requests.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second, ErrorLog: s.log}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if s.idle > 0 {
		go s.watchIdle(ctx, cancel)
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Streams that never end (events, logs -f) are cut after a grace.
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close()
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// watchIdle cancels once no request has been open for s.idle.
func (s *Server) watchIdle(ctx context.Context, cancel func()) {
	tick := time.NewTicker(time.Second / 4)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if s.active.Load() == 0 && time.Since(time.Unix(0, s.last.Load())) >= s.idle {
			s.log.Printf("idle for %s: exiting", s.idle)
			cancel()
			return
		}
	}
}

var versionPrefix = regexp.MustCompile(`^/v([0-9]+\.[0-9]+)(/.*)$`)

// ServeHTTP strips and checks the API version of the path, counts the
// request as activity, and routes it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.trace {
		s.log.Printf("%s %s", r.Method, r.URL)
	}
	s.active.Add(1)
	defer func() {
		if s.active.Add(-1) == 0 {
			s.last.Store(time.Now().UnixNano())
		}
	}()
	if m := versionPrefix.FindStringSubmatch(r.URL.Path); m != nil {
		if err := checkVersion(m[1]); err != nil {
			s.fail(w, r, err)
			return
		}
		r.URL.Path = m[2]
		r.URL.RawPath = ""
		r = r.WithContext(context.WithValue(r.Context(), versionKey{}, m[1]))
	}
	w.Header().Set("Server", "sandbox/"+s.version)
	w.Header().Set("Api-Version", MaxVersion)
	w.Header().Set("Ostype", "linux")
	s.mux.ServeHTTP(w, r)
}

// versionKey is the context key of the API version a request asked for.
type versionKey struct{}

// requestVersion is the API version of r's path; MaxVersion for an
// unversioned path.
func requestVersion(r *http.Request) string {
	if v, ok := r.Context().Value(versionKey{}).(string); ok {
		return v
	}
	return MaxVersion
}

// checkVersion refuses a version outside MinVersion..MaxVersion, in
// docker's words.
func checkVersion(v string) error {
	switch {
	case versionLess(MaxVersion, v):
		return badRequest("client version %s is too new. Maximum supported API version is %s", v, MaxVersion)
	case versionLess(v, MinVersion):
		return badRequest("client version %s is too old. Minimum supported API version is %s, please upgrade your client to a newer version", v, MinVersion)
	}
	return nil
}

// versionLess compares two MAJOR.MINOR versions.
func versionLess(a, b string) bool {
	pa, pb := strings.SplitN(a, ".", 2), strings.SplitN(b, ".", 2)
	for i := 0; i < 2; i++ {
		x, _ := strconv.Atoi(pa[i])
		y, _ := strconv.Atoi(pb[i])
		if x != y {
			return x < y
		}
	}
	return false
}

// apiError is an error with its HTTP status.
type apiError struct {
	code int
	msg  string
}

func (e *apiError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &apiError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) error {
	return &apiError{http.StatusNotFound, fmt.Sprintf(format, args...)}
}

func conflict(format string, args ...any) error {
	return &apiError{http.StatusConflict, fmt.Sprintf(format, args...)}
}

// statusOf maps the engine's errors to docker's statuses.
func statusOf(err error) int {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae.code
	case errors.Is(err, container.ErrNoSuchContainer), isNoSuchImage(err):
		return http.StatusNotFound
	case errors.Is(err, container.ErrNameInUse), errors.Is(err, container.ErrRunning),
		errors.Is(err, container.ErrNotRunning), errors.Is(err, container.ErrAmbiguous):
		return http.StatusConflict
	case isInvalid(err):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// isInvalid: the engine's refusals of bad input start with "invalid".
func isInvalid(err error) bool {
	return strings.HasPrefix(err.Error(), "invalid ")
}

// fail answers with err as docker does: {"message": ...} and its status;
// bad requests and failures get a line in the service's log.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := statusOf(err)
	if code == http.StatusBadRequest || code >= 500 {
		s.log.Printf("%s %s: %d: %v", r.Method, r.URL.Path, code, err)
	}
	writeJSON(w, code, map[string]string{"message": err.Error()})
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.Encode(v) // the client may be gone: nothing more to tell it
}

// decode reads a JSON body into v; an empty body leaves v as it is.
func decode(r *http.Request, w http.ResponseWriter, v any) error {
	body := http.MaxBytesReader(w, r.Body, maxJSONBody)
	err := json.NewDecoder(body).Decode(v)
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, io.EOF):
		return nil
	case errors.As(err, &mbe):
		return badRequest("request body is larger than %d bytes", maxJSONBody)
	case err != nil:
		return badRequest("invalid JSON in the request body: %v", err)
	}
	return nil
}

// boolParam is a query parameter read as docker reads booleans: absent,
// "", "0", "no", "false" and "none" are false.
func boolParam(r *http.Request, name string) bool {
	switch strings.ToLower(r.URL.Query().Get(name)) {
	case "", "0", "no", "false", "none":
		return false
	}
	return true
}

// intParam is an integer query parameter, def when absent.
func intParam(r *http.Request, name string, def int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, badRequest("invalid %s %q: want an integer", name, v)
	}
	return n, nil
}

// handler is a route's function; an error is answered by fail.
type handler func(w http.ResponseWriter, r *http.Request) error

func (s *Server) handle(pattern string, h handler) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.fail(w, r, err)
		}
	})
}

// notSupported answers the parts of docker that sandbox does not have.
func notSupported(what string) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		return &apiError{http.StatusNotImplemented, what + " are not supported by sandbox"}
	}
}

// swarmMessage is docker's answer on a node that is in no swarm.
const swarmMessage = `This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.`

func (s *Server) routes() {
	s.handle("/", func(w http.ResponseWriter, r *http.Request) error { return notFound("page not found") })
	s.handle("GET /_ping", s.ping)
	s.handle("HEAD /_ping", s.ping)
	s.handle("GET /version", s.versionInfo)
	s.handle("GET /info", s.info)
	s.handle("GET /events", s.events)
	s.handle("GET /system/df", s.diskUsage)

	s.handle("GET /containers/json", s.listContainers)
	s.handle("POST /containers/create", s.createContainer)
	s.handle("POST /containers/prune", s.pruneContainers)
	s.handle("GET /containers/{id}/json", s.inspectContainer)
	s.handle("POST /containers/{id}/start", s.startContainer)
	s.handle("POST /containers/{id}/stop", s.stopContainer)
	s.handle("POST /containers/{id}/restart", s.restartContainer)
	s.handle("POST /containers/{id}/kill", s.killContainer)
	s.handle("POST /containers/{id}/pause", s.pauseContainer)
	s.handle("POST /containers/{id}/unpause", s.unpauseContainer)
	s.handle("POST /containers/{id}/wait", s.waitContainer)
	s.handle("POST /containers/{id}/rename", s.renameContainer)
	s.handle("POST /containers/{id}/update", s.updateContainer)
	s.handle("POST /containers/{id}/resize", s.resizeContainer)
	s.handle("POST /containers/{id}/attach", s.attachContainer)
	s.handle("GET /containers/{id}/logs", s.logsContainer)
	s.handle("GET /containers/{id}/top", s.topContainer)
	s.handle("GET /containers/{id}/stats", s.statsContainer)
	s.handle("DELETE /containers/{id}", s.removeContainer)
	s.handle("POST /containers/{id}/exec", s.createExec)
	s.handle("POST /exec/{id}/start", s.startExec)
	s.handle("POST /exec/{id}/resize", s.resizeExec)
	s.handle("GET /exec/{id}/json", s.inspectExec)

	s.handle("GET /images/json", s.listImages)
	s.handle("POST /images/create", s.pullImage)
	s.handle("POST /images/load", s.loadImages)
	s.handle("GET /images/get", s.saveImages)
	s.handle("GET /images/{rest...}", s.imageGet)
	s.handle("POST /images/{rest...}", s.imagePost)
	s.handle("DELETE /images/{rest...}", s.removeImage)

	s.handle("GET /volumes", s.listVolumes)
	s.handle("POST /volumes/create", s.createVolume)
	s.handle("POST /volumes/prune", s.pruneVolumes)
	s.handle("GET /volumes/{name}", s.inspectVolume)
	s.handle("DELETE /volumes/{name}", s.removeVolume)

	s.handle("GET /networks", s.listNetworks)
	s.handle("POST /networks/create", s.createNetwork)
	s.handle("POST /networks/prune", s.pruneNetworks)
	s.handle("GET /networks/{id}", s.inspectNetwork)
	s.handle("DELETE /networks/{id}", s.removeNetwork)
	s.handle("POST /networks/{id}/connect", s.connectNetwork)
	s.handle("POST /networks/{id}/disconnect", s.disconnectNetwork)

	s.handle("GET /containers/{id}/archive", s.getArchive)
	s.handle("HEAD /containers/{id}/archive", s.statArchive)
	s.handle("PUT /containers/{id}/archive", s.putArchive)
	s.handle("GET /containers/{id}/export", s.exportContainer)
	s.handle("GET /containers/{id}/changes", s.containerChanges)
	s.handle("POST /commit", s.commitContainer)
	s.handle("POST /build", s.buildImage)

	for _, p := range []string{"/swarm", "/nodes", "/services", "/tasks", "/secrets", "/configs"} {
		s.handle(p, s.noSwarm)
		s.handle(p+"/", s.noSwarm)
	}
	s.handle("/plugins", notSupported("plugins"))
	s.handle("/plugins/", notSupported("plugins"))
	s.handle("/containers/{id}/checkpoints", notSupported("checkpoints"))
	s.handle("/containers/{id}/checkpoints/", notSupported("checkpoints"))
}

func (s *Server) noSwarm(w http.ResponseWriter, r *http.Request) error {
	return &apiError{http.StatusServiceUnavailable, swarmMessage}
}

// writeJSONBody writes v as JSON, headers sent already.
func writeJSONBody(w http.ResponseWriter, v any) {
	json.NewEncoder(w).Encode(v) // the client may be gone: nothing more to tell it
}

// isNoSuchImage: the store found no image for a reference.
func isNoSuchImage(err error) bool { return errors.Is(err, storage.ErrNoSuchImage) }
