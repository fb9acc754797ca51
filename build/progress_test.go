package build

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestCompactView(t *testing.T) {
	var buf bytes.Buffer
	v := newCompactView(&buf, -1)
	clock := time.Unix(0, 0)
	v.now = func() time.Time { return clock }
	out := v.output(&buf)
	v.step("STEP 1/3: RUN make")
	for _, w := range []string{"compil", "ing\n", "\x1b[1mlinking\x1b[0m\tnow\n", "50%\r100%"} {
		fmt.Fprint(out, w)
	}
	clock = clock.Add(1500 * time.Millisecond)
	v.step("STEP 2/3: COPY a /a")
	v.cachedStep()
	v.step("STEP 3/3: RUN false")
	fmt.Fprint(out, "one\ntwo")
	v.fail()
	fmt.Fprint(out, "after\n")
	got := buf.String()
	// What a terminal shows: each line as its last \r-rewrite left it.
	var shown []string
	for _, l := range strings.Split(got, "\n") {
		parts := strings.Split(l, "\r")
		shown = append(shown, strings.TrimPrefix(parts[len(parts)-1], "\x1b[K"))
	}
	want := []string{"STEP 1/3: RUN make (1.5s)", "STEP 2/3: COPY a /a (cached)", "STEP 3/3: RUN false (ERROR)", "  | one", "  | two", "after", ""}
	if strings.Join(shown, "\n") != strings.Join(want, "\n") {
		t.Errorf("shown:\n%s\nwant:\n%s", strings.Join(shown, "\n"), strings.Join(want, "\n"))
	}
	// While running, the step's line carried its last line of output.
	for _, s := range []string{"STEP 1/3: RUN make | compil", "STEP 1/3: RUN make | compiling", "STEP 1/3: RUN make | linking now", "STEP 1/3: RUN make | 100%"} {
		if !strings.Contains(got, "\r\x1b[K"+s) {
			t.Errorf("no %q drawn in %q", s, got)
		}
	}
	if strings.Contains(got, "[1m") {
		t.Errorf("an escape sequence of the output reached the view: %q", got)
	}
}

func TestFit(t *testing.T) {
	if got := fit("abcdefghij", 8); got != "abcde..." {
		t.Errorf("fit: %q", got)
	}
	if got := fit("abc", 8); got != "abc" {
		t.Errorf("fit: %q", got)
	}
}
