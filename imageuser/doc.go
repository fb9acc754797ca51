// Package imageuser reads the users of a container's image: its
// /etc/passwd and /etc/group, read safely from the container's root
// filesystem (an image may be an attacker's), and a -u/USER value resolved
// against them as docker does. It links nothing of the engine, for the
// short exec command (cmd/sandbox-exec) as for the engine and build.
package imageuser
