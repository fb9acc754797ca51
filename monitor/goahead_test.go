// Unit tests (privilege tier: none) of the monitor's read of its go-ahead.

package monitor

import (
	"os"
	"strings"
	"testing"
	"time"
)

// The go-ahead is taken at its line's end, while the command still holds
// the pipe open: the container's start does not wait for the close.
func TestReadGoTakesTheLine(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.WriteString(`{"config":"/c/config.json","log":"/c/ctr.log","cleanup":["x"]}` + "\n"); err != nil {
		t.Fatal(err)
	}
	type result struct {
		g   Go
		err error
	}
	done := make(chan result, 1)
	go func() {
		g, err := readGo(r)
		done <- result{g, err}
	}()
	select {
	case res := <-done:
		if res.err != nil || res.g.ConfigPath != "/c/config.json" || res.g.LogPath != "/c/ctr.log" {
			t.Fatalf("readGo: %+v, %v", res.g, res.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("readGo waits for the end of the pipe, not for the end of the line")
	}
}

func TestReadGoAbandoned(t *testing.T) {
	cases := []struct{ name, data, want string }{
		{"nothing", "", "abandoned"},
		{"part of a line", `{"config":"/c/con`, "read go-ahead"},
		{"not JSON", "go\n", "go-ahead:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.WriteString(c.data); err != nil {
				t.Fatal(err)
			}
			w.Close()
			if _, err := readGo(r); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("readGo: %v, want an error with %q", err, c.want)
			}
		})
	}
}
