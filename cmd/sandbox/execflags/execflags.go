// Package execflags defines the flags of `sandbox exec`, for the two
// commands that parse them: cmd/sandbox, and the short exec command
// (cmd/sandbox-exec), which must take exactly the same ones. It imports
// nothing of sandbox.
package execflags

import "github.com/spf13/pflag"

// Values are the flags' values.
type Values struct {
	Interactive, TTY, Detach, Privileged bool
	Env, EnvFiles, SecurityOpts          []string
	Workdir, User, DetachKeys            string
}

// Define adds exec's flags to f, with detachKeys as --detach-keys'
// default. Flags after the container's name are the command's own.
func Define(f *pflag.FlagSet, v *Values, detachKeys string) {
	f.SetInterspersed(false)
	f.BoolVarP(&v.Interactive, "interactive", "i", false, "keep standard input open")
	f.BoolVarP(&v.TTY, "tty", "t", false, "allocate a terminal")
	f.BoolVarP(&v.Detach, "detach", "d", false, "run the command in the background")
	f.StringArrayVarP(&v.Env, "env", "e", nil, "set an environment variable (KEY=VALUE, or KEY to copy it)")
	f.StringArrayVar(&v.EnvFiles, "env-file", nil, "read environment variables from a file")
	f.StringVarP(&v.Workdir, "workdir", "w", "", "working directory inside the container")
	f.StringVarP(&v.User, "user", "u", "", "user to run as: USER[:GROUP] or UID[:GID]")
	f.BoolVar(&v.Privileged, "privileged", false, "all capabilities")
	f.StringArrayVar(&v.SecurityOpts, "security-opt", nil, "no-new-privileges: the command gains no privilege through execve")
	f.StringVar(&v.DetachKeys, "detach-keys", detachKeys, "keys that detach from a terminal session")
}
