package container

import (
	"fmt"
	"sort"
	"strings"
)

// SortKeys are the keys of ps --sort, as podman names them.
var SortKeys = []string{"command", "created", "id", "image", "names", "runningfor", "size", "status"}

// summaryLess orders two containers by one sort key: ascending, the
// oldest first for created, the youngest first for runningfor (the
// CREATED column's age), the smallest writable layer first for size.
var summaryLess = map[string]func(a, b *Summary) bool{
	"command":    func(a, b *Summary) bool { return a.Command < b.Command },
	"created":    func(a, b *Summary) bool { return a.Created.Before(b.Created) },
	"id":         func(a, b *Summary) bool { return a.ID < b.ID },
	"image":      func(a, b *Summary) bool { return a.Image < b.Image },
	"names":      func(a, b *Summary) bool { return a.Name < b.Name },
	"runningfor": func(a, b *Summary) bool { return a.Created.After(b.Created) },
	"size":       func(a, b *Summary) bool { return a.SizeRw < b.SizeRw },
	"status":     func(a, b *Summary) bool { return a.Status < b.Status },
}

// SortSummaries sorts list by key, one of SortKeys; ties keep their
// order. "" leaves list as it is.
func SortSummaries(list []Summary, key string) error {
	if key == "" {
		return nil
	}
	less, ok := summaryLess[key]
	if !ok {
		return fmt.Errorf("invalid --sort %q: want one of %s", key, strings.Join(SortKeys, ", "))
	}
	sort.SliceStable(list, func(i, j int) bool { return less(&list[i], &list[j]) })
	return nil
}
