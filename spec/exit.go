package spec

import "errors"

// The exit statuses of sandbox itself, docker's: a command line, a
// monitor or an init that fails ends with ExitSandbox, unless the error
// is an *ExitError that says otherwise.
const (
	// ExitSandbox: sandbox itself failed.
	ExitSandbox = 125
	// ExitCannotInvoke: the container's command exists but cannot be run.
	ExitCannotInvoke = 126
	// ExitNotFound: the container's command is not there.
	ExitNotFound = 127
)

// ExitError is an error that ends a command with Code rather than
// ExitSandbox: a container command that could not be invoked or was not
// found (the init, the exec child), a start that the monitor reports
// failed with its status, a command that ends with its container's
// status. Err is what is printed; nil prints nothing.
type ExitError struct {
	Code int
	Err  error
}

// NewExitError is err ending a command with code; err may be nil when
// the status says all.
func NewExitError(code int, err error) error {
	return &ExitError{Code: code, Err: err}
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return ""
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// ExitStatus is the status a command ends with for err: 0 for nil, the
// Code of the first *ExitError in err's chain, else ExitSandbox.
func ExitStatus(err error) int {
	if err == nil {
		return 0
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return ExitSandbox
}

// RemovalHandedOff reports whether the removal of a --rm container that
// exited with code goes to the foreground command attached to it, when
// there is one (package monitor): for a failure, 1 to 125, which that
// command measures the store for before the container goes.
func RemovalHandedOff(code int) bool { return code >= 1 && code <= ExitSandbox }
