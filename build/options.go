package build

import (
	"fmt"
	"io"
	"os"
	"strings"

	"sandbox/build/buildopt"
	"sandbox/container"
)

// proxyArgs are the build arguments docker predefines: usable without
// an ARG, and kept out of the cache key and the history.
var proxyArgs = map[string]bool{
	"HTTP_PROXY": true, "http_proxy": true, "HTTPS_PROXY": true, "https_proxy": true,
	"FTP_PROXY": true, "ftp_proxy": true, "NO_PROXY": true, "no_proxy": true, "ALL_PROXY": true, "all_proxy": true,
}

// check validates the options that need nothing on disk; it returns the
// build arguments by name.
func check(o *buildopt.Options) (map[string]string, error) {
	switch strings.ToLower(o.Pull) {
	case "", container.PullMissing, container.PullAlways, container.PullNever, "true", "false":
	default:
		return nil, fmt.Errorf("invalid --pull %q: want missing, always or never", o.Pull)
	}
	switch o.Progress {
	case "", "auto", "plain", "tty":
	default:
		return nil, fmt.Errorf("invalid --progress %q: want auto, plain or tty", o.Progress)
	}
	args := map[string]string{}
	for _, a := range o.BuildArgs {
		k, v, ok := strings.Cut(a, "=")
		if k == "" {
			return nil, fmt.Errorf("invalid --build-arg %q: want NAME=VALUE or NAME", a)
		}
		if !ok {
			var set bool
			if v, set = os.LookupEnv(k); !set {
				continue
			}
		}
		args[k] = v
	}
	for _, l := range o.Labels {
		if k, _, _ := strings.Cut(l, "="); k == "" {
			return nil, fmt.Errorf("invalid --label %q: want NAME=VALUE", l)
		}
	}
	return args, nil
}

// pullMode is o.Pull as one of container's Pull* values (true: always,
// false: missing, as buildah).
func pullMode(o *buildopt.Options) string {
	switch strings.ToLower(o.Pull) {
	case container.PullAlways, "true":
		return container.PullAlways
	case container.PullNever:
		return container.PullNever
	}
	return container.PullMissing
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
