package spec

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// ParseEnv parses one -e value. KEY=VALUE sets; a bare KEY takes the value
// from lookup (the caller's environment) and is dropped when unset there.
func ParseEnv(v string, lookup func(string) (string, bool)) (string, bool, error) {
	key, val, hasVal := strings.Cut(v, "=")
	if key == "" || strings.ContainsAny(key, "\x00 \t\n") {
		return "", false, fmt.Errorf("invalid environment variable %q: want KEY=VALUE or KEY, with a KEY of no spaces", v)
	}
	if strings.ContainsRune(val, 0) {
		return "", false, fmt.Errorf("invalid environment variable %q: value holds a NUL byte", key)
	}
	if hasVal {
		return key + "=" + val, true, nil
	}
	if val, ok := lookup(key); ok {
		return key + "=" + val, true, nil
	}
	return "", false, nil
}

// MergeEnv applies overrides to base: a later KEY replaces an earlier one in
// place, new keys are appended.
func MergeEnv(base []string, overrides ...[]string) []string {
	out := append([]string(nil), base...)
	index := map[string]int{}
	for i, kv := range out {
		k, _, _ := strings.Cut(kv, "=")
		index[k] = i
	}
	for _, list := range overrides {
		for _, kv := range list {
			k, _, _ := strings.Cut(kv, "=")
			if i, ok := index[k]; ok {
				out[i] = kv
				continue
			}
			index[k] = len(out)
			out = append(out, kv)
		}
	}
	return out
}

// HasEnv reports whether env sets key.
func HasEnv(env []string, key string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, key+"=") {
			return true
		}
	}
	return false
}

// ParseEnvFile parses an --env-file: one KEY=VALUE or KEY per line, blank
// lines and lines starting with # skipped, values taken as they are
// (quotes included, as docker does).
func ParseEnvFile(data []byte, name string, lookup func(string) (string, bool)) ([]string, error) {
	var env []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimLeft(sc.Text(), " \t")
		line = strings.TrimSuffix(line, "\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		kv, ok, err := ParseEnv(line, lookup)
		if err != nil {
			return nil, fmt.Errorf("env file %s line %d: %w", name, n, err)
		}
		if ok {
			env = append(env, kv)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("env file %s: %w", name, err)
	}
	return env, nil
}
