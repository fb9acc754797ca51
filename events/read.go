package events

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// ReadOptions say which events Read hands on.
type ReadOptions struct {
	// Since and Until bound the events' times; zero is unbounded.
	Since, Until time.Time
	Filter       Filter
	// Follow keeps reading events as they are written, until ctx ends.
	Follow bool
	// Poll is how often a followed journal is looked at; 0 is 100 ms.
	Poll time.Duration
}

// Read hands emit the journal's events, oldest first, that the options
// select: the rotated file's, then the current one's, then, with Follow,
// those written later. Lines that are not events (a journal cut short by a
// full disk) are skipped.
func (j Journal) Read(ctx context.Context, o ReadOptions, emit func(Event) error) error {
	if j.Path == "" {
		return nil
	}
	r := &reader{o: o, emit: emit}
	if err := r.file(j.Path + ".1"); err != nil {
		return err
	}
	f, err := os.Open(j.Path)
	if errors.Is(err, os.ErrNotExist) && o.Follow {
		f, err = j.awaitFile(ctx, r.poll())
	}
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, context.Canceled) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("events journal: %w", err)
	}
	defer func() { f.Close() }()
	for {
		if err := r.drain(f); err != nil {
			return err
		}
		if !o.Follow {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(r.poll()):
		}
		// Rotated: finish the old file, then go on with the new one.
		if rotated(f, j.Path) {
			if err := r.drain(f); err != nil {
				return err
			}
			nf, err := os.Open(j.Path)
			if err != nil {
				continue // not there yet
			}
			f.Close()
			f, r.partial = nf, nil
		}
	}
}

func (j Journal) awaitFile(ctx context.Context, poll time.Duration) (*os.File, error) {
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(poll):
		}
		f, err := os.Open(j.Path)
		if !errors.Is(err, os.ErrNotExist) {
			return f, err
		}
	}
}

func rotated(f *os.File, path string) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	cur, err := os.Stat(path)
	return err == nil && !os.SameFile(fi, cur)
}

type reader struct {
	o    ReadOptions
	emit func(Event) error
	// partial is a line read without its newline yet: a writer's line
	// is whole once its newline is there.
	partial []byte
}

func (r *reader) poll() time.Duration {
	if r.o.Poll > 0 {
		return r.o.Poll
	}
	return 100 * time.Millisecond
}

// file reads a whole file that is no longer written (the rotated one).
func (r *reader) file(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("events journal: %w", err)
	}
	defer f.Close()
	err = r.drain(f)
	r.partial = nil
	return err
}

// drain reads f to its current end.
func (r *reader) drain(f *os.File) error {
	br := bufio.NewReader(f)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			whole := append(r.partial, line...)
			r.partial = nil
			if err := r.line(whole); err != nil {
				return err
			}
		} else {
			r.partial = append(r.partial, line...)
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read events journal: %w", err)
		}
	}
}

func (r *reader) line(b []byte) error {
	var e Event
	if err := json.Unmarshal(bytes.TrimSpace(b), &e); err != nil || e.Status == "" {
		return nil
	}
	if !r.o.Since.IsZero() && e.Time.Before(r.o.Since) || !r.o.Until.IsZero() && e.Time.After(r.o.Until) {
		return nil
	}
	if !r.o.Filter.Match(e) {
		return nil
	}
	return r.emit(e)
}
