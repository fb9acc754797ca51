package container

import (
	"fmt"
	"os"

	jsoniter "github.com/json-iterator/go"

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
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read container config: %w", err)
	}
	var c spec.Config
	if err := configJSON.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("container config %s: %w", path, err)
	}
	return &c, nil
}
