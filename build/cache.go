package build

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"sort"
	"strconv"

	"github.com/opencontainers/go-digest"
)

// The layer cache. Every step of a stage has a key, a chain of digests:
//
//	key(FROM)   = H("from", base image id)            ("scratch" for none)
//	key(step i) = H(key(step i-1), instruction, args, sources)
//
// where instruction is the step's text after variable expansion (so
// --chown, --chmod, --from and the destination are in it), args are the
// build arguments in scope at the step as sorted NAME=VALUE (so a changed
// --build-arg invalidates only the steps that can see it), and sources is
// the digest of the content COPY or ADD would copy (sourceDigest: paths,
// modes, owners for --from, symlink targets and file bytes; no times).
// H length-prefixes every part, so no two different inputs share an
// encoding. Config-only steps (ENV, LABEL, ...) make no layer, but their
// key is in the chain, so a later RUN sees the change. A step that makes
// a layer keeps its key in the image it writes (storage.BuildMeta); the next build
// looks the key up and, when found, uses that image instead of running
// the step. The final image has the key of its last step with the
// build's labels, so an unchanged rebuild gives the same image id.

// stepKey is the key of one step; parent is the previous step's key.
func stepKey(parent digest.Digest, instruction string, args []string, sources digest.Digest) digest.Digest {
	h := sha256.New()
	part(h, "step")
	part(h, parent.String())
	part(h, instruction)
	sorted := append([]string(nil), args...)
	sort.Strings(sorted)
	part(h, strconv.Itoa(len(sorted)))
	for _, a := range sorted {
		part(h, a)
	}
	part(h, sources.String())
	return digest.NewDigest(digest.SHA256, h)
}

// fromKey is the key a stage starts with.
func fromKey(baseImageID string) digest.Digest {
	if baseImageID == "" {
		baseImageID = "scratch"
	}
	h := sha256.New()
	part(h, "from")
	part(h, baseImageID)
	return digest.NewDigest(digest.SHA256, h)
}

// finalKey is the key of a stage's image: its last step's and the labels
// given with --label.
func finalKey(last digest.Digest, labels []string) digest.Digest {
	return stepKey(last, "#final", labels, "")
}

// part writes one length-prefixed part.
func part(h hash.Hash, s string) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(s)))
	h.Write(n[:])
	h.Write([]byte(s))
}
