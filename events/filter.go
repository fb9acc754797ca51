package events

import (
	"fmt"
	"strings"
)

// Filter is the --filter flags of events: an event matches when, for every
// key given, it matches one of that key's values.
type Filter struct {
	// Containers are names, full IDs or ID prefixes.
	Containers []string
	// Images are image names or ID prefixes; a container event matches on
	// its image.
	Images []string
	// Statuses are event= and status= values.
	Statuses []Status
	Types    []Type
	// Labels are label=KEY or label=KEY=VALUE: KEY present (with VALUE).
	Labels []string
}

// ParseFilter parses --filter KEY=VALUE flags. Keys: container, image,
// event (or status), type, label.
func ParseFilter(flags []string) (Filter, error) {
	var f Filter
	for _, fl := range flags {
		key, value, ok := strings.Cut(fl, "=")
		if !ok || value == "" {
			return Filter{}, fmt.Errorf("invalid filter %q: want KEY=VALUE", fl)
		}
		switch strings.ToLower(key) {
		case "container":
			f.Containers = append(f.Containers, value)
		case "image":
			f.Images = append(f.Images, value)
		case "event", "status":
			f.Statuses = append(f.Statuses, Status(value))
		case "type":
			t := Type(value)
			if t != Container && t != Image && t != Network {
				return Filter{}, fmt.Errorf("invalid filter %q: type is container, image or network", fl)
			}
			f.Types = append(f.Types, t)
		case "label":
			f.Labels = append(f.Labels, value)
		default:
			return Filter{}, fmt.Errorf("invalid filter %q: keys are container, image, event, status, type and label", fl)
		}
	}
	return f, nil
}

// Match reports whether e passes the filter.
func (f Filter) Match(e Event) bool {
	if len(f.Containers) > 0 && (e.Type != Container || !anyOf(f.Containers, func(c string) bool { return refers(c, e.ID, e.Name) })) {
		return false
	}
	if len(f.Images) > 0 && !anyOf(f.Images, func(i string) bool { return matchImage(i, e) }) {
		return false
	}
	if len(f.Statuses) > 0 && !anyOf(f.Statuses, func(s Status) bool { return s == e.Status }) {
		return false
	}
	if len(f.Types) > 0 && !anyOf(f.Types, func(t Type) bool { return t == e.Type }) {
		return false
	}
	for _, l := range f.Labels {
		k, v, hasValue := strings.Cut(l, "=")
		got, ok := e.Attributes[k]
		if !ok || hasValue && got != v {
			return false
		}
	}
	return true
}

func anyOf[T any](xs []T, pred func(T) bool) bool {
	for _, x := range xs {
		if pred(x) {
			return true
		}
	}
	return false
}

// refers reports whether ref names the object of ID id and name name: the
// name, or a prefix of the ID.
func refers(ref, id, name string) bool {
	return ref == name || id != "" && strings.HasPrefix(id, ref)
}

// matchImage matches an image filter against a container's image or an
// image event: the name as given, the name without its registry and
// :latest (busybox for localhost/busybox:latest), or a prefix of the ID.
func matchImage(ref string, e Event) bool {
	name := e.Name
	if e.Type == Container {
		name = e.Image
	} else if e.ID != "" && strings.HasPrefix(strings.TrimPrefix(e.ID, "sha256:"), strings.TrimPrefix(ref, "sha256:")) {
		return true
	}
	return name != "" && (ref == name || ref == shortName(name) || shortName(ref) == shortName(name))
}

// shortName is an image name without a registry (a first part with a dot
// or a colon, or localhost), without docker.io's library/, and without
// :latest.
func shortName(n string) string {
	if first, rest, ok := strings.Cut(n, "/"); ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		n = rest
	}
	n = strings.TrimPrefix(n, "library/")
	return strings.TrimSuffix(n, ":latest")
}
