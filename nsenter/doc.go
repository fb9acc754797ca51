// Package nsenter is the parent side of `sandbox exec`: it starts
// sandbox-nsenter (cmd/sandbox-nsenter), the small static helper that
// enters a running container and becomes the requested process, from a
// sealed copy, and hands it its request, relays its streams and terminal,
// forwards signals and moves it into the container's cgroup. No Go code
// runs inside a container on the way. It is linked into the command-line
// binary, so it must stay free of heavy imports.
package nsenter
