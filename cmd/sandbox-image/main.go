// Command sandbox-image is the image helper: sandbox runs it, inside the
// keeper's namespaces, to move images in and out of the store (pull, push,
// load, save, import). It is a binary of its own because containers/image's
// copy machinery costs tens of milliseconds at every start of a process
// that links it.
//
//	argv[1]  the request, storage.TransferRequest as JSON
//	fd 3     the answer, storage.TransferResult as JSON
//	stdin    import's input for "-"; stdout and stderr: output and progress
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	_ "sandbox/internal/nproc" // before the Go runtime: one line, not a dump, when the process limit is reached
	"sandbox/storage"
	"sandbox/storage/transfer"

	"go.podman.io/storage/pkg/reexec"
)

func main() {
	// containers/storage runs some work (untar in a chroot) in a copy of
	// this binary: that copy stops here.
	if reexec.Init() {
		return
	}
	answer := os.NewFile(3, "answer")
	if len(os.Args) != 2 || answer == nil {
		fmt.Fprintln(os.Stderr, "sandbox-image is started by sandbox, not by hand")
		os.Exit(125)
	}
	res, err := run(os.Args[1])
	if err != nil {
		res = &storage.TransferResult{Error: err.Error()}
	}
	data, _ := json.Marshal(res)
	if _, werr := answer.Write(data); werr != nil {
		fmt.Fprintf(os.Stderr, "sandbox-image: answer: %v\n", werr)
	}
	if err != nil {
		os.Exit(125)
	}
}

func run(arg string) (*storage.TransferResult, error) {
	var req storage.TransferRequest
	if err := json.Unmarshal([]byte(arg), &req); err != nil {
		return nil, fmt.Errorf("image helper request: %w", err)
	}
	if err := storage.LibraryLogFromEnv(); err != nil {
		return nil, err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	store, err := storage.Open(req.Storage)
	if err != nil {
		return nil, err
	}
	return transfer.Run(ctx, store, &req, transfer.IO{In: os.Stdin, Out: os.Stdout, Progress: os.Stderr})
}
