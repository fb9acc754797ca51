package container

import (
	"fmt"

	jsoniter "github.com/json-iterator/go"

	"sandbox/internal/atomicfile"
	"sandbox/spec"
)

// configJSON decodes containers' configurations: json-iterator, in its
// standard library compatible mode, decodes one about four times as fast
// as encoding/json, most of it in the seccomp filter's long string, and ps
// reads one per container. The command links it already (containers/
// storage's); the monitor and the init, which read one configuration
// each, stay with spec.ReadConfig and the standard library.
var configJSON = jsoniter.ConfigCompatibleWithStandardLibrary

// readConfig is spec.ReadConfig through configJSON.
func readConfig(path string) (*spec.Config, error) {
	data, err := atomicfile.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read container config: %w", err)
	}
	var c spec.Config
	if err := configJSON.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("container config %s: %w", path, err)
	}
	return &c, nil
}

// configHead is a container's configuration as ps reads it: without the
// runtime spec, whose object (most of the file: the seccomp filter) is
// skipped, not decoded. Spec, a field of its own, hides Config's.
type configHead struct {
	spec.Config
	Spec struct{} `json:"spec"`
}

// readConfigHead is readConfig without the runtime spec: Config.Spec is
// left zero. The file is read into *buf, which keeps the array for the
// next (nothing decoded refers to it).
func readConfigHead(path string, buf *[]byte) (*spec.Config, error) {
	data, err := atomicfile.ReadFileTo(*buf, path)
	if err != nil {
		return nil, fmt.Errorf("read container config: %w", err)
	}
	*buf = data[:0]
	var h configHead
	if err := configJSON.Unmarshal(withoutSpec(data), &h); err != nil {
		return nil, fmt.Errorf("container config %s: %w", path, err)
	}
	return &h.Config, nil
}

// cleanupConfig is what a container's cleanup reads of its configuration
// (spec.Config's fields of the same JSON names): the names its events
// carry, and the runtime spec's mounts, which name its anonymous volumes.
// A process pays for reflecting on a type the first time it decodes one:
// this costs the cleanup of every --rm container about 0.2 ms, the whole
// of Config 0.85-1 ms (cold, in a process of its own).
type cleanupConfig struct {
	ID     string            `json:"id"`
	Name   string            `json:"name"`
	Image  string            `json:"image"`
	Labels map[string]string `json:"labels,omitempty"`
	Spec   struct {
		Mounts []spec.Mount `json:"mounts,omitempty"`
	} `json:"spec"`
}

// readCleanupConfig reads the fields of cleanupConfig into a Config; the
// rest of it is left zero.
func readCleanupConfig(path string) (*spec.Config, error) {
	data, err := atomicfile.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read container config: %w", err)
	}
	var c cleanupConfig
	if err := configJSON.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("container config %s: %w", path, err)
	}
	return &spec.Config{ID: c.ID, Name: c.Name, Image: c.Image, Labels: c.Labels, Spec: spec.Spec{Mounts: c.Spec.Mounts}}, nil
}
