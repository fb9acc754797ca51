package usernet

import (
	"fmt"
	"strings"
)

// Match applies network ls's filters (KEY=VALUE: name, id, driver,
// label=KEY[=VALUE]) to r: every key must match, any value of a repeated
// key.
func Match(r *Record, filters []string) (bool, error) {
	by := map[string][]string{}
	for _, f := range filters {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return false, fmt.Errorf("invalid filter %q: want KEY=VALUE", f)
		}
		by[k] = append(by[k], v)
	}
	for k, vs := range by {
		hit := false
		for _, v := range vs {
			switch k {
			case "name":
				hit = hit || strings.Contains(r.Name, v)
			case "id":
				hit = hit || strings.HasPrefix(r.ID, v)
			case "driver":
				hit = hit || r.Driver == v
			case "label":
				lk, lv, withValue := strings.Cut(v, "=")
				got, has := r.Labels[lk]
				hit = hit || (has && (!withValue || got == lv))
			default:
				return false, fmt.Errorf("invalid filter %q: want name, id, driver or label", k)
			}
		}
		if !hit {
			return false, nil
		}
	}
	return true, nil
}
