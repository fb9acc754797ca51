// Command sandbox-kube is the Kubernetes helper: sandbox runs it for
// generate kube and play kube, to convert between its pods (kube/plan, as
// JSON) and Kubernetes YAML with the k8s.io/api types (package kube). It
// is a binary of its own because k8s.io's packages would cost every start
// of sandbox their init; it converts only, and touches no container.
//
//	argv[1]  "generate": stdin a plan.GenerateRequest, stdout the YAML
//	         "decode":   stdin the YAML, stdout a plan.Decoded
//	stderr   one line on error, with status 125
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"sandbox/kube"
	"sandbox/kube/plan"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "sandbox-kube is started by sandbox, not by hand")
		os.Exit(125)
	}
	if err := run(os.Args[1], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(125)
	}
}

func run(op string, in io.Reader, out io.Writer) error {
	data, err := io.ReadAll(in)
	if err != nil {
		return fmt.Errorf("read input: %w", err)
	}
	switch op {
	case "generate":
		var req plan.GenerateRequest
		if err := json.Unmarshal(data, &req); err != nil {
			return fmt.Errorf("generate request: %w", err)
		}
		y, err := kube.Generate(req)
		if err != nil {
			return err
		}
		_, err = out.Write(y)
		return err
	case "decode":
		d, err := kube.Decode(data)
		if err != nil {
			return err
		}
		return json.NewEncoder(out).Encode(d)
	}
	return fmt.Errorf("unknown operation %q", op)
}
