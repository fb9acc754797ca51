// Package engine is the engine's side of generate kube and play kube: it
// describes containers and pods as kube/plan pods, and makes pods and
// containers from them, with packages container and pod. The conversion
// to and from Kubernetes YAML runs in the sandbox-kube helper (package
// kube), so that this package, linked by the sandbox binary, links no
// k8s.io package.
package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"

	"sandbox/internal/helperpath"
)

// helper runs sandbox-kube op with in on its standard input and returns
// its standard output; its one-line error becomes the error.
func helper(ctx context.Context, op string, in []byte) ([]byte, error) {
	path, err := helperpath.Find("sandbox-kube")
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, path, op)
	cmd.Args[0] = "sandbox-kube"
	var out, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(in), &out, &stderr
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return nil, errors.New(msg)
		}
		return nil, fmt.Errorf("kube helper: %w", err)
	}
	return out.Bytes(), nil
}

func helperJSON(ctx context.Context, op string, v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return helper(ctx, op, data)
}

// readAll reads a YAML file, "-" for r.
func readAll(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read YAML: %w", err)
	}
	return data, nil
}
