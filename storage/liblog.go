package storage

import (
	"fmt"
	"io"
	"os"

	"github.com/sirupsen/logrus"
)

// containers/storage and containers/image log with logrus, to standard
// error, at level info and above unless told otherwise. Their errors come
// back to sandbox, which says each in one line of its own; their log lines
// beside it tell the same failure twice (a clean-up that failed after the
// error that is returned, on a full disk: "While recovering from a
// failure..."). So their lines are shown only when asked for, with
// --log-level, and the helpers (sandbox-image, sandbox-build) learn the
// level from the sandbox command's environment.

// LibraryLogEnv is the variable that carries the libraries' log level to
// the helpers; unset or empty, they log nothing.
const LibraryLogEnv = "SANDBOX_LIBRARY_LOG_LEVEL"

// SetLibraryLog shows the libraries' log lines at level and above on
// standard error ("" shows none), here and in the helpers started after.
func SetLibraryLog(level string) error {
	if err := setLibraryLog(level); err != nil {
		return err
	}
	if err := os.Setenv(LibraryLogEnv, level); err != nil {
		return fmt.Errorf("set %s: %w", LibraryLogEnv, err)
	}
	return nil
}

// LibraryLogFromEnv is SetLibraryLog in a helper, with the level the
// sandbox command passed on.
func LibraryLogFromEnv() error {
	return setLibraryLog(os.Getenv(LibraryLogEnv))
}

func setLibraryLog(level string) error {
	if level == "" {
		logrus.SetOutput(io.Discard)
		return nil
	}
	l, err := logrus.ParseLevel(level)
	if err != nil {
		return fmt.Errorf("log level %q: %w", level, err)
	}
	logrus.SetLevel(l)
	logrus.SetOutput(os.Stderr)
	return nil
}
