package container

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"sandbox/container/spec"
	"sandbox/storage"
)

// Summary is one container as ps shows it.
type Summary struct {
	ID       string
	Name     string
	Image    string
	Command  string
	Created  time.Time
	State    string // created, running, exited
	ExitCode int
	// Status is docker's human form: "Up 5 seconds", "Exited (0) 2 minutes ago", "Created".
	Status string
	Labels map[string]string
	Pid    int
}

// List returns containers, newest first; only running ones unless all.
// Leftovers of killed commands are reconciled on the way (see State).
func (r *Runtime) List(all bool) ([]Summary, error) {
	cs, err := r.Store.Containers()
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	now := time.Now()
	var out []Summary
	for i := range cs {
		c, err := r.load(&cs[i])
		if err != nil {
			return nil, err
		}
		st, err := r.State(c)
		if errors.Is(err, ErrNoSuchContainer) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if !all && st.Status != spec.StatusRunning {
			continue
		}
		out = append(out, summarize(c, st, now))
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}

func summarize(c *Container, st *spec.State, now time.Time) Summary {
	s := Summary{ID: c.ID, Name: c.Name(), State: st.Status, ExitCode: st.ExitCode, Created: c.Created, Pid: st.Pid}
	if c.Config != nil {
		s.Image = storage.FamiliarName(c.Config.Image)
		s.Command = strings.Join(c.Config.Command, " ")
		s.Labels = c.Config.Labels
		s.Created = c.Config.Created
	}
	switch st.Status {
	case spec.StatusRunning:
		s.Status = "Up " + HumanDuration(now.Sub(st.StartedAt))
	case spec.StatusExited:
		s.Status = fmt.Sprintf("Exited (%d) %s ago", st.ExitCode, HumanDuration(now.Sub(st.FinishedAt)))
	case spec.StatusCreated:
		s.Status = "Created"
	default:
		s.Status = st.Status
	}
	return s
}

// HumanDuration is docker's rounding of an age: "Less than a second",
// "5 seconds", "About a minute", "3 hours", "2 days", "3 weeks", "4 months".
func HumanDuration(d time.Duration) string {
	s := int(d.Seconds())
	switch {
	case s < 1:
		return "Less than a second"
	case s == 1:
		return "1 second"
	case s < 60:
		return fmt.Sprintf("%d seconds", s)
	}
	m := int(d.Minutes())
	switch {
	case m == 1:
		return "About a minute"
	case m < 60:
		return fmt.Sprintf("%d minutes", m)
	}
	h := int(d.Round(time.Hour).Hours())
	switch {
	case h == 1:
		return "About an hour"
	case h < 48:
		return fmt.Sprintf("%d hours", h)
	case h < 24*7*2:
		return fmt.Sprintf("%d days", h/24)
	case h < 24*30*2:
		return fmt.Sprintf("%d weeks", h/24/7)
	case h < 24*365*2:
		return fmt.Sprintf("%d months", h/24/30)
	}
	return fmt.Sprintf("%d years", h/24/365)
}
