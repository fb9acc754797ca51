// Command hello is one of the bench's yardsticks: a static Go program that
// prints a line and exits, the least a Go process costs to start on the
// machine (hack/bench.sh builds it with CGO_ENABLED=0).
package main

import "os"

func main() {
	if _, err := os.Stdout.WriteString("hello\n"); err != nil {
		os.Exit(1)
	}
}
