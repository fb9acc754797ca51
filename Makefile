# sandbox: rootless containers without a daemon. `make help` lists targets.

PREFIX  ?= /usr/local
GO      ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
TAGS    := exclude_graphdriver_btrfs exclude_graphdriver_devicemapper exclude_graphdriver_zfs containers_image_openpgp
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
GOFLAGS_BUILD := -trimpath -tags "$(TAGS)" -ldflags "$(LDFLAGS)"
# The unprivileged user the tests run as when make runs as root.
TEST_USER ?= sbx
SOURCES := $(shell find . \( -name '*.go' -o -name '*.c' -o -name '*.h' \) -not -path './.git/*') go.mod go.sum

.PHONY: help build install uninstall test test-unit test-integration test-compat test-vm soak bench lint setup quickstart clean

help: ## show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: bin/sandbox bin/sandbox-monitor bin/sandbox-cleanup bin/sandbox-image bin/sandbox-kube bin/sandbox-build bin/sandbox-service bin/sandbox-nsenter bin/sandbox-exec ## build the binaries into bin/

# Linked statically: the command starts with no shared library to load
# and relocate (sandbox --version: 0.8 ms less CPU and wall), and a run
# --rm starts it twice (the command, the cleanup). netgo and osusergo: Go's
# own resolver and /etc/passwd reader, as glibc's NSS in a static binary
# would load shared modules.
bin/sandbox: $(SOURCES)
	CGO_ENABLED=1 $(GO) build -trimpath -tags "$(TAGS) netgo osusergo" -ldflags "$(LDFLAGS) -extldflags=-static" -o $@ ./cmd/sandbox

# The monitor and init are static and free of cgo: they start fastest.
bin/sandbox-monitor: $(SOURCES)
	CGO_ENABLED=0 $(GO) build $(GOFLAGS_BUILD) -o $@ ./cmd/sandbox-monitor

# What a container's monitor becomes once the container has exited:
# static and free of cgo, without the engine (package removal).
bin/sandbox-cleanup: $(SOURCES)
	CGO_ENABLED=0 $(GO) build $(GOFLAGS_BUILD) -o $@ ./cmd/sandbox-cleanup

bin/sandbox-image: $(SOURCES)
	CGO_ENABLED=1 $(GO) build $(GOFLAGS_BUILD) -o $@ ./cmd/sandbox-image

# The Kubernetes YAML converter: k8s.io's packages stay out of sandbox.
bin/sandbox-kube: $(SOURCES)
	CGO_ENABLED=0 $(GO) build $(GOFLAGS_BUILD) -o $@ ./cmd/sandbox-kube

# build runs here: buildkit's Dockerfile packages stay out of sandbox's start.
bin/sandbox-build: $(SOURCES)
	CGO_ENABLED=1 $(GO) build $(GOFLAGS_BUILD) -o $@ ./cmd/sandbox-build

# The Docker API service: its HTTP server stays out of the sandbox binary.
bin/sandbox-service: $(SOURCES)
	CGO_ENABLED=1 $(GO) build $(GOFLAGS_BUILD) -o $@ ./cmd/sandbox-service

# The short way of `sandbox exec`, which sandbox's pre-runtime hook
# executes in its place: static and free of cgo, without the engine.
bin/sandbox-exec: $(SOURCES)
	CGO_ENABLED=0 $(GO) build $(GOFLAGS_BUILD) -o $@ ./cmd/sandbox-exec

# The process that enters a container for exec: small, static C, no Go
# runtime inside a container; executed from a sealed copy (package nsenter),
# made anew for every exec. Linked against musl when musl-gcc is there
# (hack/setup.sh installs musl-tools): 58 KiB to copy and map against
# glibc's 700, and no glibc start-up (its IRELATIVE relocations) before
# the helper runs; musl-gcc is given the kernel's headers, which it does
# not look in itself. Without it, $(CC) and glibc, slower to start.
MUSL_GCC := $(shell command -v musl-gcc 2>/dev/null)
NSENTER_CC := $(if $(MUSL_GCC),$(MUSL_GCC) -idirafter /usr/include -idirafter /usr/include/$(shell $(CC) -dumpmachine 2>/dev/null),$(CC))
bin/sandbox-nsenter: cmd/sandbox-nsenter/nsenter.c prerun/procfs.h
	@mkdir -p bin
	$(NSENTER_CC) -static -O2 -Wall -Wextra -s -Iprerun -o $@ $<

install: build ## install into $(PREFIX) (bin/ and libexec/sandbox/)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/libexec/sandbox
	install -m 0755 bin/sandbox $(DESTDIR)$(PREFIX)/bin/sandbox
	install -m 0755 bin/sandbox-monitor bin/sandbox-cleanup bin/sandbox-image bin/sandbox-kube bin/sandbox-build bin/sandbox-service bin/sandbox-nsenter bin/sandbox-exec $(DESTDIR)$(PREFIX)/libexec/sandbox/

uninstall: ## remove what install put in $(PREFIX)
	rm -f $(DESTDIR)$(PREFIX)/bin/sandbox $(DESTDIR)$(PREFIX)/libexec/sandbox/sandbox-monitor $(DESTDIR)$(PREFIX)/libexec/sandbox/sandbox-cleanup $(DESTDIR)$(PREFIX)/libexec/sandbox/sandbox-image $(DESTDIR)$(PREFIX)/libexec/sandbox/sandbox-kube $(DESTDIR)$(PREFIX)/libexec/sandbox/sandbox-build $(DESTDIR)$(PREFIX)/libexec/sandbox/sandbox-service $(DESTDIR)$(PREFIX)/libexec/sandbox/sandbox-nsenter $(DESTDIR)$(PREFIX)/libexec/sandbox/sandbox-exec

setup: ## as root: packages, test user, devices (idempotent); as a user: check them
	hack/setup.sh

quickstart: ## set up the host, build, install, import the busybox image, run a container
	hack/quickstart.sh

test: setup build test-unit test-integration test-vm ## every tier: unit, rootless integration, cgroup v2 VM

test-unit: lint ## lint, unit tests and a short run of every fuzz target (no privileges needed)
	$(GO) test -tags "$(TAGS)" -count=1 ./...
	hack/fuzz.sh 5s

test-integration: build ## rootless integration tests, as $(TEST_USER) when run as root
	hack/test-integration.sh

soak: build ## 2000 random operations from 8 workers with random SIGKILLs (make test runs 100)
	SANDBOX_SOAK_OPS=$${SANDBOX_SOAK_OPS:-2000} TEST_ARGS='-test.run ^TestSoak$$ -test.v' hack/test-integration.sh

test-vm: build ## as root: smoke check and cgroup v2 integration tests in a qemu VM (TEST_RUN selects)
	hack/vm/test.sh

bench: build ## start latency and more, side by side with rootless podman
	hack/bench.sh

lint: ## gofmt, go vet and the layering of DESIGN.md §2 (V=1 prints each package's share of the lines)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet -tags "$(TAGS)" ./...
	GO=$(GO) $(GO) run ./hack/layering -tags "$(TAGS)"$(if $(V), -v)

clean: ## remove build output
	rm -rf bin

test-compat: build ## the differential tier alone: a table of command lines against sandbox and podman (also in test-integration)
	TEST_ARGS='-test.run ^TestCompat$$' hack/test-integration.sh
