package container

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"sandbox/imageuser"
	"sandbox/internal/atomicfile"
)

// The image's /etc/passwd and /etc/group, kept per image in the run root:
// every create resolves the container's user against them, and reading
// them from the new container's root filesystem (resolved inside it,
// reopened through a private procfs: imageuser.ReadFile) costs about half a
// millisecond of every run, on its path to the container's start. A new
// container's files are its image's, and an image's id is the digest of
// its configuration, which names its layers' contents: the files kept
// under that id stay right for as long as the image exists, and a reboot
// forgets them (the run root is a tmpfs).
//
// A file of the cache is the two files, each as a flag (0 missing, 1
// present), its length (8 bytes, big-endian) and its bytes, then the
// sha256 of all that. A file that is not whole is read from the root
// filesystem and written again.

// imageUsersCache is the directory of the cache, in the run root.
func (r *Runtime) imageUsersCache() string { return filepath.Join(r.runRoot, "sandbox-imageusers") }

// imageUserFilesCached is imageuser.Files for a new container of image
// imageID, through the cache.
func (r *Runtime) imageUserFilesCached(imageID, rootfs string) (passwd, group []byte, err error) {
	if !validImageID(imageID) || r.runRoot == "" {
		return imageuser.Files(rootfs)
	}
	path := filepath.Join(r.imageUsersCache(), imageID)
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("image user cache: %w", err)
	}
	if p, g, ok := unsealUserFiles(data); ok {
		return p, g, nil
	}
	if passwd, group, err = imageuser.Files(rootfs); err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(r.imageUsersCache(), 0o700); err != nil {
		return nil, nil, fmt.Errorf("image user cache: %w", err)
	}
	if err := atomicfile.Write(path, sealUserFiles(passwd, group), 0o600); err != nil {
		return nil, nil, fmt.Errorf("image user cache: %w", err)
	}
	return passwd, group, nil
}

// validImageID: 64 lower-case hex digits, so that an id is a file name.
func validImageID(id string) bool {
	if len(id) != 64 {
		return false
	}
	for _, c := range id {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// sealUserFiles is a file of the cache (above); nil is a missing file.
func sealUserFiles(passwd, group []byte) []byte {
	var b bytes.Buffer
	for _, f := range [][]byte{passwd, group} {
		flag := byte(0)
		if f != nil {
			flag = 1
		}
		b.WriteByte(flag)
		b.Write(binary.BigEndian.AppendUint64(nil, uint64(len(f))))
		b.Write(f)
	}
	sum := sha256.Sum256(b.Bytes())
	b.Write(sum[:])
	return b.Bytes()
}

// unsealUserFiles reads a file of the cache; ok is false unless it is
// whole.
func unsealUserFiles(data []byte) (passwd, group []byte, ok bool) {
	if len(data) < sha256.Size {
		return nil, nil, false
	}
	body, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	if want := sha256.Sum256(body); !bytes.Equal(sum, want[:]) {
		return nil, nil, false
	}
	var files [2][]byte
	for i := range files {
		if len(body) < 9 || body[0] > 1 {
			return nil, nil, false
		}
		present := body[0] == 1
		n := binary.BigEndian.Uint64(body[1:9])
		body = body[9:]
		if n > uint64(len(body)) || (!present && n != 0) {
			return nil, nil, false
		}
		if present {
			files[i] = append([]byte{}, body[:n]...)
		}
		body = body[n:]
	}
	if len(body) != 0 {
		return nil, nil, false
	}
	return files[0], files[1], true
}
