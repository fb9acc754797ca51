package main

import (
	"errors"
	"fmt"
	"os"
	"slices"

	"sandbox/container"
	"sandbox/spec"
	"sandbox/storage"
)

// targets say which containers a lifecycle command acts on: the ones
// named, or with all (or filters) every container in one of states.
type targets struct {
	// all is --all; states are the states it takes, none meaning every state.
	all    bool
	states []string
	// filters are --filter: the containers that pass them, as ps lists them.
	filters []string
	// ignore is --ignore: a name that names no container is passed over.
	ignore bool
}

// actOn runs do for each target container, printing each one acted on (as
// named, or by full id with --all) on standard output and each failure as
// its own "Error:" line, as podman does. One failure does not stop the
// others. The exit status is exitStatus's.
func actOn(rt *container.Runtime, args []string, t targets, do func(ref string) error) error {
	if t.all || len(t.filters) > 0 {
		if len(args) > 0 {
			return errors.New("no arguments are needed with --all or --filter")
		}
		var err error
		if args, err = selectContainers(rt, t); err != nil {
			return err
		}
	} else if len(args) == 0 {
		return errors.New("you must provide at least one name or id")
	}
	var errs []error
	for _, ref := range args {
		err := do(ref)
		switch {
		case err == nil:
			fmt.Println(ref)
		case t.ignore && errors.Is(err, container.ErrNoSuchContainer):
		default:
			fmt.Fprintln(os.Stderr, "Error:", err)
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return spec.NewExitError(exitStatus(errs), nil)
}

// selectContainers lists the ids of the containers that --all and
// --filter select.
func selectContainers(rt *container.Runtime, t targets) ([]string, error) {
	f, err := container.ParseFilters(t.filters)
	if err != nil {
		return nil, err
	}
	list, err := rt.ListWith(container.ListOptions{All: true, Filters: f})
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, s := range list {
		if len(t.states) == 0 || slices.Contains(t.states, s.State) {
			ids = append(ids, s.ID)
		}
	}
	return ids, nil
}

// exitStatus is the status of a command over several containers or
// images, as podman's manual pages give it: 1 when the failures are only
// names that name nothing, 2 when one is a container or image that is in
// use (rm of a running container, rmi of an image a container uses) and
// the others are missing ones, else 125.
func exitStatus(errs []error) int {
	code := 1
	for _, err := range errs {
		switch {
		case errors.Is(err, container.ErrNoSuchContainer), errors.Is(err, storage.ErrNoSuchImage):
		case errors.Is(err, container.ErrRunning), errors.Is(err, container.ErrImageInUse):
			code = 2
		default:
			return spec.ExitSandbox
		}
	}
	return code
}
