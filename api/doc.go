// Package api serves the Docker Engine API (the types of
// github.com/moby/moby/api) over a listener, on the engine that the
// command line uses: every operation is a call into the packages the
// command line calls (container, storage, volume, network/usernet,
// imagetools, build and build/commit), never a second implementation of
// it. It owns the HTTP side only: routing and API versions, docker's
// error shape, hijacked attach and exec streams with docker's stream
// framing, the JSON streams of pulls and builds, and the idle timeout of
// the service.
//
// It must not import cobra nor be linked into the sandbox command: the
// service is its own binary (cmd/sandbox-service), so that the HTTP
// server's start-up cost stays off the path of run and exec.
package api
