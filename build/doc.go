// Package build owns `sandbox build`: a Dockerfile or Containerfile read
// with moby/buildkit's parser and instructions packages, expanded with its
// shell lexer, and executed step by step on the engine. Each RUN runs in a
// real container made by package container (create, start, attach, remove:
// the path of `run`, with its security defaults); COPY, ADD and the
// container's changes become image layers through package storage; the
// .dockerignore/.containerignore patterns are moby/patternmatcher's; the
// layer cache (cache.go) reuses what an earlier build made.
//
// It must not import cobra or containers/image (storage/transfer): pulls
// go through the image helper, as everywhere else.
package build
