package volume

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Filters are volume ls --filter and volume prune --filter, parsed:
// KEY=VALUE, the values of one key alternatives (any may match), the keys
// all to match.
type Filters map[string][]string

// ParseFilters parses KEY=VALUE filters: name (a regular expression, as
// podman), label (KEY or KEY=VALUE), label! (not), driver, dangling (true
// or false: used by no container).
func ParseFilters(args []string) (Filters, error) {
	f := Filters{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return nil, fmt.Errorf("invalid filter %q: want KEY=VALUE", a)
		}
		switch k {
		case "name":
			if _, err := regexp.Compile(v); err != nil {
				return nil, fmt.Errorf("invalid filter %q: %w", a, err)
			}
		case "label", "label!", "driver":
		case "dangling":
			if _, err := strconv.ParseBool(v); err != nil {
				return nil, fmt.Errorf("invalid filter %q: dangling is true or false", a)
			}
		default:
			return nil, fmt.Errorf("invalid filter %q: the keys are name, label, label!, driver and dangling", a)
		}
		f[k] = append(f[k], v)
	}
	return f, nil
}

// Match says whether v passes f; inUse says whether a container uses v.
// Of one key's values any may match, except label!, whose values must
// all hold (none of the labels is there).
func (f Filters) Match(v *Volume, inUse bool) bool {
	for k, vals := range f {
		matched := k == "label!"
		for _, val := range vals {
			ok := f.matchOne(k, val, v, inUse)
			if k == "label!" && !ok {
				return false
			}
			if ok {
				matched = true
			}
		}
		if !matched {
			return false
		}
	}
	return true
}

func (Filters) matchOne(k, val string, v *Volume, inUse bool) bool {
	switch k {
	case "name":
		re, err := regexp.Compile(val)
		return err == nil && re.MatchString(v.Name)
	case "driver":
		return v.Driver == val
	case "dangling":
		b, err := strconv.ParseBool(val)
		return err == nil && b == !inUse
	case "label", "label!":
		lk, lv, hasValue := strings.Cut(val, "=")
		got, ok := v.Labels[lk]
		has := ok && (!hasValue || got == lv)
		if k == "label!" {
			return !has
		}
		return has
	}
	return false
}
