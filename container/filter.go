package container

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"sandbox/storage"
)

// Filters are ps --filter values. Values of one key match when any of
// them does; different keys must all match.
type Filters struct {
	// Status are container states (created, running, ...).
	Status []string
	// Name are regular expressions, matched against the name with and
	// without docker's leading slash.
	Name []*regexp.Regexp
	// Label are KEY or KEY=VALUE.
	Label []LabelFilter
	// Ancestor are images: see AncestorFilter.
	Ancestor []AncestorFilter
	// ID are id prefixes.
	ID []string
	// Exited are exit codes: containers that exited with one of them.
	Exited []int
	// Before and Since are containers: those created before (after) one
	// of them.
	Before, Since []RefFilter
	// Volume are paths: a bind mount's source or destination (there are
	// no named volumes).
	Volume []string
	// Network are network modes (none, host, slirp4netns, pasta,
	// container:ID) or user-defined networks (name or id): a container
	// on several matches each.
	Network []string
	// Pod are pods, by name or id prefix: their members and infra.
	Pod []string
	// Health are health states. There are no health checks: none matches
	// every container, the other states none.
	Health []string
}

// RefFilter is before= or since=: Ref as given; the runtime fills in the
// container it names, ID and Created, before matching.
type RefFilter struct {
	Ref     string
	ID      string
	Created time.Time
}

// LabelFilter is label=KEY (any value) or label=KEY=VALUE.
type LabelFilter struct {
	Key, Value string
	HasValue   bool
}

// AncestorFilter is ancestor=IMAGE: Ref as given, and ImageID, the image it
// names in the store ("" when none; the runtime fills it in before
// matching). A container matches when it was created from that image, or
// from an image of that name, or Ref is a prefix of its image's id.
type AncestorFilter struct {
	Ref     string
	ImageID string
}

// filterStates are the states docker accepts in status=.
var filterStates = []string{"created", "restarting", "running", "removing", "paused", "exited", "dead"}

// healthStates are the states docker accepts in health=.
var healthStates = []string{"starting", "healthy", "unhealthy", "none"}

// FilterKeys are the keys ParseFilters accepts.
var FilterKeys = []string{"status", "name", "label", "ancestor", "id", "exited", "before", "since", "volume", "network", "health", "pod"}

// ParseFilters reads --filter KEY=VALUE values, of the FilterKeys. An
// unknown key or a bad value is an error naming it.
func ParseFilters(args []string) (*Filters, error) {
	f := &Filters{}
	for _, a := range args {
		key, value, ok := strings.Cut(a, "=")
		if !ok {
			return nil, fmt.Errorf("invalid filter %q: want KEY=VALUE", a)
		}
		if value == "" {
			return nil, fmt.Errorf("invalid filter %q: empty value", a)
		}
		switch strings.ToLower(key) {
		case "status":
			if !contains(filterStates, value) {
				return nil, fmt.Errorf("invalid filter %q: unknown status %q; want one of %s", a, value, strings.Join(filterStates, ", "))
			}
			f.Status = append(f.Status, value)
		case "name":
			re, err := regexp.Compile(value)
			if err != nil {
				return nil, fmt.Errorf("invalid filter %q: bad regular expression: %w", a, err)
			}
			f.Name = append(f.Name, re)
		case "label":
			k, v, hasValue := strings.Cut(value, "=")
			if k == "" {
				return nil, fmt.Errorf("invalid filter %q: want label=KEY or label=KEY=VALUE", a)
			}
			f.Label = append(f.Label, LabelFilter{Key: k, Value: v, HasValue: hasValue})
		case "ancestor":
			f.Ancestor = append(f.Ancestor, AncestorFilter{Ref: value})
		case "id":
			f.ID = append(f.ID, value)
		case "exited":
			code, err := strconv.Atoi(value)
			if err != nil || code < 0 || code > 255 {
				return nil, fmt.Errorf("invalid filter %q: want an exit code from 0 to 255", a)
			}
			f.Exited = append(f.Exited, code)
		case "before":
			f.Before = append(f.Before, RefFilter{Ref: value})
		case "since":
			f.Since = append(f.Since, RefFilter{Ref: value})
		case "volume":
			f.Volume = append(f.Volume, path.Clean(value))
		case "network":
			f.Network = append(f.Network, value)
		case "pod":
			f.Pod = append(f.Pod, value)
		case "health":
			if !contains(healthStates, value) {
				return nil, fmt.Errorf("invalid filter %q: unknown health %q; want one of %s", a, value, strings.Join(healthStates, ", "))
			}
			f.Health = append(f.Health, value)
		default:
			return nil, fmt.Errorf("invalid filter %q: unknown key %q; want one of %s", a, key, strings.Join(FilterKeys, ", "))
		}
	}
	return f, nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// HasStatus reports whether a status filter is given: docker then lists
// containers in every state, as with -a.
func (f *Filters) HasStatus() bool { return f != nil && len(f.Status) > 0 }

// Match reports whether a container passes the filters. A nil Filters
// passes everything.
func (f *Filters) Match(s Summary) bool {
	if f == nil {
		return true
	}
	return matchAny(f.Status, func(v string) bool { return s.State == v }) &&
		matchAny(f.Name, func(re *regexp.Regexp) bool { return re.MatchString(s.Name) || re.MatchString("/"+s.Name) }) &&
		// Labels are all to match (docker's rule, and podman's one
		// exception to "any value of a key").
		matchAll(f.Label, func(l LabelFilter) bool {
			v, ok := s.Labels[l.Key]
			return ok && (!l.HasValue || v == l.Value)
		}) &&
		matchAny(f.Ancestor, func(a AncestorFilter) bool { return a.matches(s) }) &&
		matchAny(f.ID, func(p string) bool { return strings.HasPrefix(s.ID, p) }) &&
		matchAny(f.Exited, func(c int) bool { return s.State == "exited" && s.ExitCode == c }) &&
		matchAny(f.Before, func(r RefFilter) bool { return s.ID != r.ID && s.Created.Before(r.Created) }) &&
		matchAny(f.Since, func(r RefFilter) bool { return s.ID != r.ID && s.Created.After(r.Created) }) &&
		matchAny(f.Volume, func(p string) bool { return s.hasBind(p) }) &&
		matchAny(f.Network, func(m string) bool {
			return s.NetworkMode == m || slices.Contains(s.Networks, m) || slices.Contains(s.NetworkIDs, m)
		}) &&
		matchAny(f.Health, func(h string) bool { return h == "none" }) &&
		matchAny(f.Pod, func(p string) bool { return s.Pod != "" && (s.PodName == p || strings.HasPrefix(s.Pod, p)) })
}

// hasBind: a bind mount of s has p as its source or destination, or a
// volume of s is named p or mounted at p.
func (s Summary) hasBind(p string) bool {
	for _, m := range s.Mounts {
		if (m.Type == "bind" || m.Type == "volume") && (m.Source == p || m.Destination == p || m.Name == p) {
			return true
		}
	}
	return false
}

// matchAny is true for no values, else when one of them matches.
// matchAll: every value matches (none given: all do).
func matchAll[T any](values []T, match func(T) bool) bool {
	for _, v := range values {
		if !match(v) {
			return false
		}
	}
	return true
}

func matchAny[T any](values []T, match func(T) bool) bool {
	if len(values) == 0 {
		return true
	}
	for _, v := range values {
		if match(v) {
			return true
		}
	}
	return false
}

func (a AncestorFilter) matches(s Summary) bool {
	if s.ImageID == "" {
		return false
	}
	if a.ImageID != "" && s.ImageID == a.ImageID {
		return true
	}
	if storage.IsIDPrefix(a.Ref) && strings.HasPrefix(s.ImageID, strings.TrimPrefix(a.Ref, "sha256:")) {
		return true
	}
	// The name the container was created with, as stored.
	want, err := storage.NormalizeName(a.Ref)
	if err != nil || s.Image == "" {
		return false
	}
	got, err := storage.NormalizeName(s.Image)
	return err == nil && got.String() == want.String()
}
