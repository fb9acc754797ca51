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
