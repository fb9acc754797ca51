package monitor

import (
	"encoding/json"
	"fmt"
	"os"

	"sandbox/spec"
)

// monitorConfig is a container's configuration as the monitor reads it:
// of the runtime spec (most of the file: the seccomp filter, the mounts,
// the capabilities), only whether the process has a terminal. What the
// monitor decodes stays in its heap for the container's life, as its
// heap is never collected while it waits.
type monitorConfig struct {
	spec.Config
	// Spec hides Config's.
	Spec struct {
		Process struct {
			Terminal bool `json:"terminal"`
		} `json:"process"`
	} `json:"spec"`
}

// readConfig reads the container's configuration for the monitor: its
// Spec is zero but for Process.Terminal.
func readConfig(path string) (*spec.Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read container config: %w", err)
	}
	var c monitorConfig
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("container config %s: %w", path, err)
	}
	c.Config.Spec.Process.Terminal = c.Spec.Process.Terminal
	return &c.Config, nil
}
