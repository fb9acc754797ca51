package container

import (
	"fmt"
	"os"

	"sandbox/events"
)

// record writes an event about c to the events journal. A journal that
// cannot be written is a warning: what happened to the container did
// happen.
func (r *Runtime) record(c *Container, s events.Status) {
	r.recordCode(c, s, 0)
}

// recordCode is record with an exit code (died, exec_died).
func (r *Runtime) recordCode(c *Container, s events.Status, code int) {
	e := events.Event{Type: events.Container, Status: s, ID: c.ID, Name: c.Name(), ContainerExitCode: code}
	if c.Config != nil {
		e.Image, e.Attributes = c.Config.Image, c.Config.Labels
		if e.Name == "" {
			e.Name = c.Config.Name
		}
	}
	warnEvent(r.Events.Write(e))
}

// RecordImage writes an image event: id is the image's ID, name the name
// the event is about.
func (r *Runtime) RecordImage(s events.Status, id, name string) {
	warnEvent(r.Events.Write(events.Event{Type: events.Image, Status: s, ID: id, Name: name}))
}

func warnEvent(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "WARN: %v\n", err)
	}
}

// recordNetwork writes a network event: connect or disconnect of c,
// network the network's name.
func (r *Runtime) recordNetwork(s events.Status, c *Container, network string) {
	warnEvent(r.Events.Write(events.Event{Type: events.Network, Status: s, ID: c.ID, Name: c.Name(), Network: network}))
}
