package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"
)

// result holds one figure's samples, in the order of figure.commands.
type result struct {
	samples [][]time.Duration
}

// measure runs the figure's commands in alternation: cfg.warmup rounds
// not counted, then cfg.n counted rounds, each round every command once
// in order.
func measure(ctx context.Context, f *figure, cfg *config) (*result, error) {
	res := &result{samples: make([][]time.Duration, len(f.commands))}
	for round := -cfg.warmup; round < cfg.n; round++ {
		for i, c := range f.commands {
			// Stop between samples, not inside one: a container started
			// and killed half-way is what the tools' own clean-up is for,
			// and they see the terminal's interrupt themselves.
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("interrupted: %w", err)
			}
			d, err := timeOnce(c.argv)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.tool, err)
			}
			if cfg.verbose {
				tag := "warm-up"
				if round >= 0 {
					tag = fmt.Sprintf("round %d", round+1)
				}
				fmt.Fprintf(os.Stderr, "bench: %s: %s: %-8s %s\n", f.name, tag, c.tool, ms(d))
			}
			if round >= 0 {
				res.samples[i] = append(res.samples[i], d)
			}
		}
	}
	return res, nil
}

// timeOnce runs argv with no input and returns its wall time, from just
// before the fork to the reaping of its exit status.
func timeOnce(argv []string) (time.Duration, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, strings.TrimSpace(out.String()))
	}
	return d, nil
}

// stats summarises one series.
type stats struct {
	median, p90 time.Duration
	spread      float64 // p90 / median: how noisy the series is
}

// summarize computes the median (the mean of the two middle samples when
// their number is even) and the 90th percentile (nearest rank) of samples,
// which must not be empty.
func summarize(samples []time.Duration) stats {
	s := slices.Clone(samples)
	slices.Sort(s)
	n := len(s)
	var st stats
	if n%2 == 1 {
		st.median = s[n/2]
	} else {
		st.median = (s[n/2-1] + s[n/2]) / 2
	}
	// Nearest rank: the smallest sample with at least 90% of them at or below it.
	rank := (9*n + 9) / 10 // ceil(0.9 n)
	st.p90 = s[rank-1]
	if st.median > 0 {
		st.spread = float64(st.p90) / float64(st.median)
	}
	return st
}

// verdict says whether ratio keeps b, and by how much it misses it.
func verdict(ratio float64, b budget, subject, ref time.Duration) (ok bool, text string) {
	if ratio <= b.max {
		return true, "within budget"
	}
	allowed := time.Duration(float64(ref) * b.max)
	return false, fmt.Sprintf("over budget by %.0f%% (%s, allowed %s)",
		(ratio/b.max-1)*100, ms(subject), ms(allowed))
}

// noisySpread is the spread above which a series is called noisy.
const noisySpread = 1.5

// report prints one figure and tells whether it is over any budget.
func report(w io.Writer, f *figure, res *result) (over bool) {
	fmt.Fprintf(w, "\n%s\n", f.name)
	for _, c := range f.commands {
		fmt.Fprintf(w, "  %-10s $ %s\n", c.tool, strings.Join(c.argv, " "))
	}
	fmt.Fprintf(w, "  %-10s %10s %10s %8s\n", "tool", "median", "p90", "spread")
	st := map[string]stats{}
	for i, c := range f.commands {
		s := summarize(res.samples[i])
		st[c.tool] = s
		fmt.Fprintf(w, "  %-10s %10s %10s %8.2f\n", c.tool, ms(s.median), ms(s.p90), s.spread)
	}
	noisiest := 0.0
	for _, s := range st {
		noisiest = max(noisiest, s.spread)
	}
	if noisiest > noisySpread {
		fmt.Fprintf(w, "  noisy: a spread of %.2f (over %.2f): the machine is busy; trust the ratios more than the times, or run again\n",
			noisiest, noisySpread)
	}
	subject := f.commands[0].tool
	for _, b := range f.budgets {
		sub, ref := st[subject], st[b.ref]
		ratio := float64(sub.median) / float64(ref.median)
		ok, text := verdict(ratio, b, sub.median, ref.median)
		if !ok {
			over = true
		}
		name := subject + "/" + b.ref
		fmt.Fprintf(w, "  %-16s %7.3f  budget %-18s (%5.3f)  %s\n", name, ratio, b.text, b.max, text)
	}
	return over
}

// printMachine prints what the figures depend on besides the code: the
// run's parameters and the machine's size and load.
func printMachine(w io.Writer, cfg *config) {
	fields := strings.Fields(readInfo("/proc/loadavg"))
	if len(fields) > 3 {
		fields = fields[:3]
	}
	fmt.Fprintf(w, "bench: %d rounds after %d warm-up rounds, tools alternated; uid %d\n",
		cfg.n, cfg.warmup, os.Getuid())
	fmt.Fprintf(w, "machine: linux %s, %d CPUs, load %s\n",
		readInfo("/proc/sys/kernel/osrelease"), runtime.NumCPU(), strings.Join(fields, " "))
	fmt.Fprintf(w, "sandbox: %s\n", cfg.sandbox)
	fmt.Fprintln(w, "spread = p90/median of a series: the machine's noise (1.00 is none)")
}

// readInfo reads a small informational file, "?" when it cannot.
func readInfo(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}

// ms formats d in milliseconds.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}
