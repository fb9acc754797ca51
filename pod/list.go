package pod

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"sandbox/container"
	"sandbox/spec"
)

// Pod states, as podman names them.
const (
	StateCreated  = "Created"
	StateRunning  = "Running"
	StateDegraded = "Degraded"
	StatePaused   = "Paused"
	StateExited   = "Exited"
)

// Status is a pod's state from its containers' (the infra among them):
// Running when all run, Degraded when some do, Paused or Created when all
// are, else Exited.
func Status(states []string) string {
	count := map[string]int{}
	for _, s := range states {
		count[s]++
	}
	n := len(states)
	switch {
	case n == 0:
		return StateCreated
	case count["running"] == n:
		return StateRunning
	case count["running"]+count["paused"] > 0 && count["paused"] == n:
		return StatePaused
	case count["running"]+count["paused"] > 0:
		return StateDegraded
	case count["created"] == n:
		return StateCreated
	}
	return StateExited
}

// Member is one container of a pod as pod ls and pod inspect show it.
type Member struct {
	ID     string `json:"Id"`
	Name   string `json:"Name"`
	Status string `json:"State"`
}

// Summary is one pod as pod ls shows it.
type Summary struct {
	*Pod
	Status     string
	Members    []Member // the infra among them
	Ports      []spec.Port
	InfraState string
}

// ListOptions are the flags of pod ls.
type ListOptions struct {
	Filters *Filters
}

// Filters are pod ls --filter values: values of one key match when any
// does; different keys must all match.
type Filters struct {
	ID     []string
	Name   []*regexp.Regexp
	Label  []container.LabelFilter
	Status []string
}

// FilterKeys are the keys ParseFilters accepts.
var FilterKeys = []string{"id", "name", "label", "status"}

var filterStates = []string{"created", "running", "degraded", "paused", "exited", "stopped", "dead", "error"}

// ParseFilters reads --filter KEY=VALUE values.
func ParseFilters(args []string) (*Filters, error) {
	f := &Filters{}
	for _, a := range args {
		key, value, ok := strings.Cut(a, "=")
		if !ok || value == "" {
			return nil, fmt.Errorf("invalid filter %q: want KEY=VALUE", a)
		}
		switch key {
		case "id":
			f.ID = append(f.ID, value)
		case "name":
			re, err := regexp.Compile(value)
			if err != nil {
				return nil, fmt.Errorf("invalid filter %q: bad regular expression: %w", a, err)
			}
			f.Name = append(f.Name, re)
		case "label":
			k, v, has := strings.Cut(value, "=")
			f.Label = append(f.Label, container.LabelFilter{Key: k, Value: v, HasValue: has})
		case "status":
			if !slices.Contains(filterStates, strings.ToLower(value)) {
				return nil, fmt.Errorf("invalid filter %q: unknown status %q; want one of %s", a, value, strings.Join(filterStates, ", "))
			}
			f.Status = append(f.Status, strings.ToLower(value))
		default:
			return nil, fmt.Errorf("invalid filter %q: unknown key %q; want one of %s", a, key, strings.Join(FilterKeys, ", "))
		}
	}
	return f, nil
}

// Match reports whether s passes the filters; nil passes everything.
func (f *Filters) Match(s Summary) bool {
	if f == nil {
		return true
	}
	return matchAny(f.ID, func(p string) bool { return strings.HasPrefix(s.ID, p) }) &&
		matchAny(f.Name, func(re *regexp.Regexp) bool { return re.MatchString(s.Name) }) &&
		matchAny(f.Label, func(l container.LabelFilter) bool {
			v, ok := s.Labels[l.Key]
			return ok && (!l.HasValue || v == l.Value)
		}) &&
		matchAny(f.Status, func(st string) bool { return strings.EqualFold(st, s.Status) })
}

func matchAny[T any](values []T, match func(T) bool) bool {
	if len(values) == 0 {
		return true
	}
	return slices.ContainsFunc(values, match)
}

// List returns the pods, newest first, with their states.
func (m *Manager) List(o ListOptions) ([]Summary, error) {
	pods, err := m.db.all()
	if err != nil {
		return nil, err
	}
	all, err := m.rt.ListWith(container.ListOptions{All: true})
	if err != nil {
		return nil, err
	}
	var out []Summary
	for _, p := range pods {
		s := summarize(p, all)
		if o.Filters.Match(s) {
			out = append(out, s)
		}
	}
	return out, nil
}

func summarize(p *Pod, all []container.Summary) Summary {
	s := Summary{Pod: p}
	var states []string
	for _, c := range all {
		if c.Pod != p.ID {
			continue
		}
		states = append(states, c.State)
		s.Members = append(s.Members, Member{ID: c.ID, Name: c.Name, Status: c.State})
		if c.IsInfra {
			s.InfraState = c.State
		}
	}
	s.Status = Status(states)
	return s
}

// Inspect is pod inspect's answer, in podman's shape.
type Inspect struct {
	ID               string            `json:"Id"`
	Name             string            `json:"Name"`
	Created          time.Time         `json:"Created"`
	State            string            `json:"State"`
	Hostname         string            `json:"Hostname"`
	Labels           map[string]string `json:"Labels"`
	CreateInfra      bool              `json:"CreateInfra"`
	InfraContainerID string            `json:"InfraContainerID"`
	InfraConfig      InfraConfig       `json:"InfraConfig"`
	SharedNamespaces []string          `json:"SharedNamespaces"`
	NumContainers    int               `json:"NumContainers"`
	Containers       []Member          `json:"Containers"`
}

// InfraConfig is the infra container's network, as podman shows it.
type InfraConfig struct {
	PortBindings map[string][]PortBinding `json:"PortBindings"`
	HostNetwork  bool                     `json:"HostNetwork"`
	NetworkMode  string                   `json:"NetworkMode"`
}

// PortBinding is one host side of a published port.
type PortBinding struct {
	HostIP   string `json:"HostIp"`
	HostPort string `json:"HostPort"`
}

// Inspect returns the pod that ref names, as pod inspect shows it.
func (m *Manager) Inspect(ref string) (*Inspect, error) {
	p, err := m.Lookup(ref)
	if err != nil {
		return nil, err
	}
	all, err := m.rt.ListWith(container.ListOptions{All: true, Filters: &container.Filters{Pod: []string{p.ID}}})
	if err != nil {
		return nil, err
	}
	s := summarize(p, all)
	in := &Inspect{ID: p.ID, Name: p.Name, Created: p.Created, State: s.Status, Hostname: p.Hostname,
		Labels: p.Labels, CreateInfra: true, InfraContainerID: p.Infra, SharedNamespaces: p.Share,
		NumContainers: len(s.Members), Containers: s.Members,
		InfraConfig: InfraConfig{PortBindings: map[string][]PortBinding{}}}
	if in.Labels == nil {
		in.Labels = map[string]string{}
	}
	if c, err := m.rt.Lookup(p.Infra); err == nil && c.Config != nil {
		in.InfraConfig.NetworkMode = c.Config.Host.NetworkMode
		in.InfraConfig.HostNetwork = c.Config.Host.NetworkMode == spec.NetworkHost
		for _, port := range c.Config.Host.Ports {
			k := fmt.Sprintf("%d/%s", port.ContainerPort, port.Protocol)
			in.InfraConfig.PortBindings[k] = append(in.InfraConfig.PortBindings[k], PortBinding{HostIP: port.HostIP, HostPort: fmt.Sprint(port.HostPort)})
		}
	}
	return in, nil
}

// Exists reports whether ref names a pod.
func (m *Manager) Exists(ref string) (bool, error) {
	_, err := m.Lookup(ref)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, ErrNoSuchPod) {
		return false, nil
	}
	return false, err
}
