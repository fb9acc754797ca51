package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	osexec "os/exec"
	"strings"

	"sandbox/events"
	"sandbox/internal/helperpath"
)

// Transfer operations of the image helper.
const (
	OpPull   = "pull"
	OpPush   = "push"
	OpLoad   = "load"
	OpSave   = "save"
	OpImport = "import"
)

// TransferRequest is one job for the image helper (sandbox-image), which
// moves images in and out of the store with containers/image. The sandbox
// command builds it and the helper runs it; see storage/transfer.
type TransferRequest struct {
	Op string `json:"op"`
	// Storage is the store to open, with its driver resolved.
	Storage Options `json:"storage"`
	// Ref is the image: what to pull, push, save, or the name to give an
	// import. Dest is push's destination ("" means Ref).
	Ref  string `json:"ref,omitempty"`
	Dest string `json:"dest,omitempty"`
	// File is what load and import read ("-": standard input) and save
	// writes; Format is save's docker-archive or oci-archive.
	File   string `json:"file,omitempty"`
	Format string `json:"format,omitempty"`
	// Changes and Message are import's --change and --message.
	Changes []string `json:"changes,omitempty"`
	Message string   `json:"message,omitempty"`
	// TLSVerify is --tls-verify (nil: verify, except loopback registries).
	TLSVerify *bool `json:"tlsVerify,omitempty"`
	// AuthFile overrides the credentials file.
	AuthFile string `json:"authFile,omitempty"`
	// Quiet suppresses progress.
	Quiet bool `json:"quiet,omitempty"`
}

// TransferResult is the helper's answer, written to its fd 3 as JSON.
type TransferResult struct {
	// IDs are the images written to the store; Names the names they got.
	IDs   []string `json:"ids,omitempty"`
	Names []string `json:"names,omitempty"`
	Error string   `json:"error,omitempty"`
}

// TransferIO are the helper's standard streams: In for `import -`, Out
// for what the command prints, Progress for progress lines.
type TransferIO struct {
	In       io.Reader
	Out      io.Writer
	Progress io.Writer
}

// Transfer runs req in the image helper.
func (s *Store) Transfer(ctx context.Context, req TransferRequest, tio TransferIO) (*TransferResult, error) {
	helper, err := helperpath.Find("sandbox-image")
	if err != nil {
		return nil, err
	}
	req.Storage = s.Options
	req.Storage.Driver = s.DriverName
	data, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	resR, resW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("helper pipe: %w", err)
	}
	defer resR.Close()
	cmd := osexec.CommandContext(ctx, helper, string(data))
	cmd.Args[0] = "sandbox-image"
	cmd.Env = os.Environ()
	// Without a progress writer, keep what the helper says for the error.
	var stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tio.In, tio.Out, tio.Progress
	if tio.Progress == nil {
		cmd.Stderr = &stderr
	}
	cmd.ExtraFiles = []*os.File{resW}
	if err := cmd.Start(); err != nil {
		resW.Close()
		return nil, fmt.Errorf("start image helper: %w", err)
	}
	resW.Close()
	out, readErr := io.ReadAll(resR)
	waitErr := cmd.Wait()
	var res TransferResult
	if len(out) > 0 {
		if err := json.Unmarshal(out, &res); err != nil {
			return nil, fmt.Errorf("image helper answer %q: %w", out, err)
		}
	}
	if res.Error != "" {
		return nil, errors.New(res.Error)
	}
	if readErr != nil {
		return nil, fmt.Errorf("read image helper answer: %w", readErr)
	}
	if waitErr != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return nil, fmt.Errorf("image helper: %w: %s", waitErr, msg)
		}
		return nil, fmt.Errorf("image helper: %w", waitErr)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("image helper gave no answer")
	}
	s.recordTransfer(req, &res)
	return &res, nil
}

// transferEvents are the events of the helper's operations.
var transferEvents = map[string]events.Status{
	OpPull: events.Pull, OpPush: events.Push, OpImport: events.Import, OpLoad: events.Load, OpSave: events.Save,
}

// recordTransfer records a transfer done: one event per image written,
// or one naming the reference sent out.
func (s *Store) recordTransfer(req TransferRequest, res *TransferResult) {
	status, ok := transferEvents[req.Op]
	if !ok {
		return
	}
	name := req.Ref
	if name == "" {
		name = req.File
	}
	if len(res.IDs) == 0 {
		s.record(status, "", name)
	}
	for i, id := range res.IDs {
		n := name
		if i < len(res.Names) {
			n = res.Names[i]
		}
		s.record(status, id, n)
		// The name given to an import is a tag, as podman records it.
		if req.Op == OpImport && req.Ref != "" {
			s.record(events.Tag, id, n)
		}
	}
}

// record writes an image event; a journal that cannot be written is a
// warning, since the operation did happen.
func (s *Store) record(status events.Status, id, name string) {
	if err := s.Events.Write(events.Event{Type: events.Image, Status: status, ID: id, Name: name}); err != nil {
		fmt.Fprintf(os.Stderr, "WARN: %v\n", err)
	}
}

// PullOptions tune Pull.
type PullOptions struct {
	TLSVerify *bool
	AuthFile  string
	// Progress receives progress lines; nil discards them.
	Progress io.Writer
}

// Pull fetches ref from its registry into the store.
func (s *Store) Pull(ctx context.Context, ref string, o PullOptions) error {
	named, err := NormalizeName(ref)
	if err != nil {
		return err
	}
	_, err = s.Transfer(ctx, TransferRequest{Op: OpPull, Ref: named.String(), TLSVerify: o.TLSVerify, AuthFile: o.AuthFile, Quiet: o.Progress == nil},
		TransferIO{Progress: o.Progress})
	if err != nil {
		return fmt.Errorf("pull %s: %w", named.String(), err)
	}
	return nil
}
