package storage

import (
	"errors"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
)

// Reference is an image reference in the form docker normalizes it to:
// the registry's domain, the repository's path in it, and a tag, a digest
// or both. The grammar and the normalization are docker's (the
// distribution project's reference package, which containers/image
// carries as docker/reference); this is its parser without the regular
// expressions that package compiles at every start of a process that
// links it, which is every sandbox command. The unit tests check it
// against that package, input by input.
type Reference struct {
	Domain string // "docker.io", "localhost:5000"; "" only for names no domain can be split from
	Path   string // "library/busybox"
	Tag    string // "" for none
	Digest string // "" for none; a valid digest otherwise
}

// Docker's defaults.
const (
	defaultDomain = "docker.io"
	legacyDomain  = "index.docker.io"
	officialRepo  = "library"
	defaultTag    = "latest"
	// nameMax is the longest repository name, domain included.
	nameMax = 255
)

// Errors of ParseReference, as docker words them.
var (
	errRefFormat    = errors.New("invalid reference format")
	errRefUppercase = errors.New("invalid reference format: repository name must be lowercase")
	errRefTooLong   = fmt.Errorf("invalid reference format: repository name must not be more than %d characters", nameMax)
)

// ParseReference parses an image reference as a user types it: a name
// without a domain is on docker.io, one of one component there is under
// library/. A reference without tag or digest keeps none (see
// WithDefaultTag).
func ParseReference(s string) (Reference, error) {
	if len(s) == 64 && isLowerHex(s) {
		return Reference{}, fmt.Errorf("invalid repository name (%s), cannot specify 64-byte hexadecimal strings", s)
	}
	domain, rest := splitDomain(s)
	remote, _, _ := strings.Cut(rest, ":")
	if strings.ToLower(remote) != remote {
		return Reference{}, errRefUppercase
	}
	return parseFull(domain + "/" + rest)
}

// splitDomain splits a name into its domain and the rest, docker's way:
// the first component is a domain when it has a dot or a colon or is
// localhost; otherwise the domain is docker.io, where a one-component
// path is an official image, under library/.
func splitDomain(name string) (domain, rest string) {
	first, after, found := strings.Cut(name, "/")
	if !found || (!strings.ContainsAny(first, ".:") && first != "localhost") {
		domain, rest = defaultDomain, name
	} else {
		domain, rest = first, after
	}
	if domain == legacyDomain {
		domain = defaultDomain
	}
	if domain == defaultDomain && !strings.Contains(rest, "/") {
		rest = officialRepo + "/" + rest
	}
	return domain, rest
}

// parseFull parses NAME[:TAG][@DIGEST] where NAME is [DOMAIN/]PATH.
func parseFull(s string) (Reference, error) {
	r, ok := split(s)
	if !ok {
		if s == "" {
			return Reference{}, errors.New("repository name must have at least one component")
		}
		if _, lower := split(strings.ToLower(s)); lower {
			return Reference{}, errors.New("repository name must be lowercase")
		}
		return Reference{}, errRefFormat
	}
	if len(r.Repository()) > nameMax {
		return Reference{}, errRefTooLong
	}
	if r.Digest != "" {
		if _, err := digest.Parse(r.Digest); err != nil {
			return Reference{}, err
		}
	}
	return r, nil
}

// split takes s apart by the grammar, without checking the digest's
// algorithm and length or the name's length.
func split(s string) (Reference, bool) {
	var r Reference
	name := s
	if i := strings.IndexByte(s, '@'); i >= 0 {
		name, r.Digest = s[:i], s[i+1:]
		if !isDigestForm(r.Digest) {
			return r, false
		}
	}
	// A colon after the last slash starts the tag: a name has colons only
	// in its domain's port.
	if i := strings.LastIndexByte(name, ':'); i > strings.LastIndexByte(name, '/') {
		name, r.Tag = name[:i], name[i+1:]
		if !isTag(r.Tag) {
			return r, false
		}
	}
	// The domain is optional and tried first.
	if d, p, found := strings.Cut(name, "/"); found && isDomain(d) && isPath(p) {
		r.Domain, r.Path = d, p
		return r, true
	}
	r.Path = name
	return r, isPath(name)
}

// isPath: components of [a-z0-9]+ runs joined by one of ".", "_", "__" or
// any number of "-", separated by slashes.
func isPath(s string) bool {
	for _, c := range strings.Split(s, "/") {
		if !isPathComponent(c) {
			return false
		}
	}
	return true
}

func isPathComponent(c string) bool {
	i, n := 0, len(c)
	run := func() bool {
		start := i
		for i < n && (c[i] >= 'a' && c[i] <= 'z' || c[i] >= '0' && c[i] <= '9') {
			i++
		}
		return i > start
	}
	if !run() {
		return false
	}
	for i < n {
		switch {
		case c[i] == '.':
			i++
		case c[i] == '_':
			i++
			if i < n && c[i] == '_' {
				i++
			}
		case c[i] == '-':
			for i < n && c[i] == '-' {
				i++
			}
		}
		if !run() {
			return false
		}
	}
	return true
}

// isDomain: dot-separated components of letters, digits and inner
// hyphens, then an optional :PORT.
func isDomain(s string) bool {
	host, port, hasPort := strings.Cut(s, ":")
	if hasPort && (port == "" || !allBytes(port, isDigit)) {
		return false
	}
	for _, c := range strings.Split(host, ".") {
		if c == "" || c[0] == '-' || c[len(c)-1] == '-' || !allBytes(c, func(b byte) bool { return isAlnum(b) || b == '-' }) {
			return false
		}
	}
	return true
}

// isTag: a word character, then up to 127 word characters, dots and
// hyphens.
func isTag(s string) bool {
	return s != "" && len(s) <= 128 && isWord(s[0]) &&
		allBytes(s, func(b byte) bool { return isWord(b) || b == '.' || b == '-' })
}

// isDigestForm: ALGORITHM:HEX, the algorithm's components of a letter and
// then letters and digits, joined by -, _, + or .; at least 32 hex digits.
func isDigestForm(s string) bool {
	alg, hex, ok := strings.Cut(s, ":")
	if !ok || len(hex) < 32 || !allBytes(hex, isHex) || alg == "" {
		return false
	}
	start := true
	for i := 0; i < len(alg); i++ {
		b := alg[i]
		switch {
		case start:
			if !isLetter(b) {
				return false
			}
			start = false
		case b == '-' || b == '_' || b == '+' || b == '.':
			start = true
		case !isAlnum(b):
			return false
		}
	}
	return !start
}

func allBytes(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func isLetter(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }
func isDigit(b byte) bool  { return b >= '0' && b <= '9' }
func isAlnum(b byte) bool  { return isLetter(b) || isDigit(b) }
func isWord(b byte) bool   { return isAlnum(b) || b == '_' }
func isHex(b byte) bool    { return isDigit(b) || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F' }

func isLowerHex(s string) bool {
	return allBytes(s, func(b byte) bool { return isDigit(b) || b >= 'a' && b <= 'f' })
}

// IsIDPrefix reports whether s can be (a prefix of) an image or container
// id: 3 to 64 lower-case hex digits, optionally after "sha256:".
func IsIDPrefix(s string) bool {
	s = strings.TrimPrefix(s, "sha256:")
	return len(s) >= 3 && len(s) <= 64 && isLowerHex(s)
}

// Repository is DOMAIN/PATH, or PATH without a domain. (Not Name: with
// Name and String the type would pass for containers/image's
// reference.Named, whose transports would then take it for a name with
// neither tag nor digest; the compiler now refuses it there.)
func (r Reference) Repository() string {
	if r.Domain == "" {
		return r.Path
	}
	return r.Domain + "/" + r.Path
}

// String is the whole reference: NAME[:TAG][@DIGEST].
func (r Reference) String() string {
	s := r.Repository()
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// WithDefaultTag gives a reference with neither tag nor digest the tag
// latest.
func (r Reference) WithDefaultTag() Reference {
	if r.Tag == "" && r.Digest == "" {
		r.Tag = defaultTag
	}
	return r
}

// familiar is r as docker shows it: without docker.io, and without
// library/ for an official image.
func (r Reference) familiar() Reference {
	if r.Domain == defaultDomain {
		r.Domain = ""
		if first, rest, ok := strings.Cut(r.Path, "/"); ok && first == officialRepo && !strings.Contains(rest, "/") {
			r.Path = rest
		}
	}
	return r
}

// FamiliarName is the name as docker shows it: busybox for
// docker.io/library/busybox.
func (r Reference) FamiliarName() string { return r.familiar().Repository() }

// FamiliarString is the whole reference as docker shows it.
func (r Reference) FamiliarString() string { return r.familiar().String() }
