package storage

import (
	"encoding/json"
	"fmt"
	"path"
	"strings"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// ApplyChanges applies Dockerfile-style instructions (import --change) to
// an image configuration: CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL,
// EXPOSE, VOLUME, STOPSIGNAL. CMD and ENTRYPOINT take a JSON array or a
// shell form (run by /bin/sh -c).
func ApplyChanges(cfg *v1.ImageConfig, changes []string) error {
	for _, ch := range changes {
		if err := applyChange(cfg, ch); err != nil {
			return fmt.Errorf("invalid --change %q: %w", ch, err)
		}
	}
	return nil
}

// CheckChanges reports the first change ApplyChanges would refuse.
func CheckChanges(changes []string) error {
	return ApplyChanges(&v1.ImageConfig{}, changes)
}

func applyChange(cfg *v1.ImageConfig, ch string) error {
	ch = strings.TrimSpace(ch)
	instr, rest, _ := strings.Cut(ch, " ")
	rest = strings.TrimSpace(rest)
	if rest == "" {
		return fmt.Errorf("%s needs a value", strings.ToUpper(instr))
	}
	switch strings.ToUpper(instr) {
	case "CMD":
		v, err := commandForm(rest)
		cfg.Cmd = v
		return err
	case "ENTRYPOINT":
		v, err := commandForm(rest)
		cfg.Entrypoint = v
		return err
	case "ENV":
		pairs, err := keyValues(rest, true)
		if err != nil {
			return err
		}
		for _, kv := range pairs {
			cfg.Env = setEnv(cfg.Env, kv[0], kv[1])
		}
	case "LABEL":
		pairs, err := keyValues(rest, false)
		if err != nil {
			return err
		}
		if cfg.Labels == nil {
			cfg.Labels = map[string]string{}
		}
		for _, kv := range pairs {
			cfg.Labels[kv[0]] = kv[1]
		}
	case "WORKDIR":
		if !path.IsAbs(rest) {
			return fmt.Errorf("WORKDIR must be an absolute path")
		}
		cfg.WorkingDir = path.Clean(rest)
	case "USER":
		if strings.ContainsAny(rest, " \t") {
			return fmt.Errorf("USER takes one USER[:GROUP]")
		}
		cfg.User = rest
	case "EXPOSE":
		if cfg.ExposedPorts == nil {
			cfg.ExposedPorts = map[string]struct{}{}
		}
		for _, p := range strings.Fields(rest) {
			if !strings.Contains(p, "/") {
				p += "/tcp"
			}
			cfg.ExposedPorts[p] = struct{}{}
		}
	case "VOLUME":
		vols := strings.Fields(rest)
		if strings.HasPrefix(rest, "[") {
			if err := json.Unmarshal([]byte(rest), &vols); err != nil {
				return fmt.Errorf("not a JSON array of strings: %w", err)
			}
		}
		if cfg.Volumes == nil {
			cfg.Volumes = map[string]struct{}{}
		}
		for _, v := range vols {
			cfg.Volumes[v] = struct{}{}
		}
	case "STOPSIGNAL":
		cfg.StopSignal = rest
	default:
		return fmt.Errorf("unsupported instruction %q: want CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, VOLUME or STOPSIGNAL", instr)
	}
	return nil
}

// commandForm reads ["a","b"] or a shell form (→ /bin/sh -c "...").
func commandForm(s string) ([]string, error) {
	if strings.HasPrefix(s, "[") {
		var v []string
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return nil, fmt.Errorf("not a JSON array of strings: %w", err)
		}
		return v, nil
	}
	return []string{"/bin/sh", "-c", s}, nil
}

// keyValues reads KEY=VALUE pairs (values may be quoted), or with legacy
// the old form "KEY VALUE WITH SPACES".
func keyValues(s string, legacy bool) ([][2]string, error) {
	words, err := splitWords(s)
	if err != nil {
		return nil, err
	}
	if legacy && len(words) > 0 && !strings.Contains(words[0], "=") {
		// The key ends at the first blank, a tab as much as a space.
		key, val := s, ""
		if i := strings.IndexAny(s, " \t"); i >= 0 {
			key, val = s[:i], s[i+1:]
		}
		return [][2]string{{key, strings.TrimSpace(val)}}, nil
	}
	var out [][2]string
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%q is not KEY=VALUE", w)
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}

// splitWords splits on blanks outside quotes, removing the quotes; a
// backslash escapes the next character outside single quotes.
func splitWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	escaped := false
	for _, c := range s {
		switch {
		case escaped:
			cur.WriteRune(c)
			escaped = false
		case c == '\\' && quote != '\'':
			escaped, inWord = true, true
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				cur.WriteRune(c)
			}
		case c == '"' || c == '\'':
			quote, inWord = c, true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(c)
			inWord = true
		}
	}
	if quote != 0 || escaped {
		return nil, fmt.Errorf("unterminated quote or escape")
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

func setEnv(env []string, key, val string) []string {
	for i, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k == key {
			env[i] = key + "=" + val
			return env
		}
	}
	return append(env, key+"="+val)
}
