package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

// result holds one figure's measurements.
type result struct {
	rounds, warmup int               // as measured, after the figure's caps
	samples        [][]time.Duration // timed figures: by command, in the order of figure.commands
	cpu            [][]time.Duration // CPU time of every process of a sample, by command; for commands with cpu set
	rates          [][]float64       // throughput figures: bits per second, by command
	memory         []memory          // memory figures: one probe per command
}

// plan returns the rounds and warm-up rounds f gets: -n and -warmup,
// capped by the figure's own limits.
func (f *figure) plan(cfg *config) (rounds, warmup int) {
	rounds, warmup = cfg.n, cfg.warmup
	if f.rounds > 0 {
		rounds = min(rounds, f.rounds)
	}
	if f.warmup > 0 {
		warmup = min(warmup, f.warmup)
	}
	return rounds, warmup
}

// measure runs the figure's setup, then its commands in alternation:
// warm-up rounds not counted, then the counted rounds, each round every
// command once in order; or, for a memory figure, one probe per command.
// What the setups made is undone however measure ends: the commands'
// first, in reverse order, then the figure's.
func measure(ctx context.Context, f *figure, cfg *config) (res *result, err error) {
	res = &result{samples: make([][]time.Duration, len(f.commands)), cpu: make([][]time.Duration, len(f.commands)), rates: make([][]float64, len(f.commands))}
	res.rounds, res.warmup = f.plan(cfg)
	if f.setup != nil {
		undo, err := f.setup(ctx)
		if err != nil {
			return nil, fmt.Errorf("setup: %w", err)
		}
		defer func() {
			if uerr := undo(); uerr != nil {
				err = errors.Join(err, fmt.Errorf("clean-up: %w", uerr))
			}
		}()
	}
	for _, c := range f.commands {
		if c.setup == nil {
			continue
		}
		undo, err := c.setup(ctx)
		if err != nil {
			return nil, fmt.Errorf("setup: %s: %w", c.tool, err)
		}
		defer func() {
			if uerr := undo(); uerr != nil {
				err = errors.Join(err, fmt.Errorf("clean-up: %s: %w", c.tool, uerr))
			}
		}()
	}
	if f.memory {
		for _, c := range f.commands {
			m, err := c.probe(ctx)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.tool, err)
			}
			if cfg.verbose {
				fmt.Fprintf(os.Stderr, "bench: %s: %-8s %d containers, %d helper processes, RSS %s, PSS %s\n",
					f.name, c.tool, m.containers, m.processes, mib(m.rss), mib(m.pss))
			}
			res.memory = append(res.memory, m)
		}
		return res, nil
	}
	if f.busy {
		stop, err := startHogs()
		if err != nil {
			return nil, err
		}
		defer func() {
			if serr := stop(); serr != nil {
				err = errors.Join(err, fmt.Errorf("stop the CPU hogs: %w", serr))
			}
		}()
	}
	for round := -res.warmup; round < res.rounds; round++ {
		for i, c := range f.commands {
			// Stop between samples, not inside one: a container started
			// and killed half-way is what the tools' own clean-up is for,
			// and they see the terminal's interrupt themselves.
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("interrupted: %w", err)
			}
			d, cpu, rate, err := sampleOnce(ctx, c)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.tool, err)
			}
			if cfg.verbose {
				tag := "warm-up"
				if round >= 0 {
					tag = fmt.Sprintf("round %d", round+1)
				}
				v := ms(d)
				if c.cpu {
					v += ", CPU " + ms(cpu)
				}
				if f.throughput {
					v = gbits(rate)
				}
				fmt.Fprintf(os.Stderr, "bench: %s: %s: %-8s %s\n", f.name, tag, c.tool, v)
			}
			if round >= 0 {
				res.samples[i] = append(res.samples[i], d)
				res.rates[i] = append(res.rates[i], rate)
				if c.cpu {
					res.cpu[i] = append(res.cpu[i], cpu)
				}
			}
		}
	}
	return res, nil
}

// sampleOnce takes one sample of c, with its untimed steps around it: its
// wall time, the CPU time of all its processes when c.cpu is set, and the
// rate it measured when it is a throughput sample.
func sampleOnce(ctx context.Context, c *command) (d, cpu time.Duration, rate float64, err error) {
	if c.before != nil {
		if err := c.before(ctx); err != nil {
			return 0, 0, 0, fmt.Errorf("before the sample: %w", err)
		}
	}
	switch {
	case c.cpu:
		var r reaped
		r, err = reap(c.argv, true)
		d, cpu = r.wall, r.cpu
	case c.rate != nil:
		start := time.Now()
		rate, err = c.rate(ctx)
		d = time.Since(start)
	case c.sample != nil:
		d, err = c.sample(ctx)
	default:
		d, err = timeOnce(c.argv)
	}
	if c.after != nil {
		// After a failed sample too: it may have made half of what after undoes.
		if aerr := c.after(ctx); aerr != nil {
			err = errors.Join(err, fmt.Errorf("after the sample: %w", aerr))
		}
	}
	return d, cpu, rate, err
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
	if f.about != "" {
		fmt.Fprintf(w, "  (%s)\n", f.about)
	}
	lw := labelWidth(f)
	for _, c := range f.commands {
		fmt.Fprintf(w, "  %-*s $ %s\n", lw, c.tool, strings.Join(c.argv, " "))
	}
	for _, s := range f.skipped {
		fmt.Fprintf(w, "  %-*s   not measured: %v\n", lw, s.tool, s.why)
	}
	if f.memory {
		return reportMemory(w, f, res)
	}
	plural := func(n int) string {
		if n == 1 {
			return ""
		}
		return "s"
	}
	fmt.Fprintf(w, "  %d round%s after %d warm-up round%s, tools alternated\n",
		res.rounds, plural(res.rounds), res.warmup, plural(res.warmup))
	medians := map[string]float64{}
	cpuMedians := map[string]float64{}
	spreads := map[string]float64{}
	noisiest := 0.0
	if f.throughput {
		fmt.Fprintf(w, "  %-*s %12s %12s %8s   (receiver side)\n", lw, "tool", "median", "p10", "spread")
		for i, c := range f.commands {
			s := summarizeRates(res.rates[i])
			medians[c.tool] = s.median
			spreads[c.tool] = s.spread
			noisiest = max(noisiest, s.spread)
			fmt.Fprintf(w, "  %-*s %12s %12s %8.2f\n", lw, c.tool, gbits(s.median), gbits(s.p10), s.spread)
		}
	} else {
		withCPU := slices.ContainsFunc(f.commands, func(c *command) bool { return c.cpu })
		cpuHead := ""
		if withCPU {
			cpuHead = fmt.Sprintf(" %10s %10s", "CPU", "CPU p90")
		}
		fmt.Fprintf(w, "  %-*s %10s %10s %8s%s\n", lw, "tool", "median", "p90", "spread", cpuHead)
		for i, c := range f.commands {
			s := summarize(res.samples[i])
			medians[c.tool] = float64(s.median)
			noisiest = max(noisiest, s.spread)
			cpuCols := ""
			if c.cpu && len(res.cpu[i]) > 0 {
				cs := summarize(res.cpu[i])
				cpuMedians[c.tool] = float64(cs.median)
				cpuCols = fmt.Sprintf(" %10s %10s", ms(cs.median), ms(cs.p90))
			}
			fmt.Fprintf(w, "  %-*s %10s %10s %8.2f%s\n", lw, c.tool, ms(s.median), ms(s.p90), s.spread, cpuCols)
		}
		if withCPU {
			fmt.Fprintf(w, "  (CPU: user+system time of every process of a sample, helpers and clean-up included, median and p90)\n")
		}
	}
	if noisiest > noisySpread {
		what := "times"
		if f.throughput {
			what = "rates"
		}
		fmt.Fprintf(w, "  noisy: a spread of %.2f (over %.2f): the machine is busy; trust the ratios more than the %s, or run again\n",
			noisiest, noisySpread, what)
	}
	names := make([]string, len(f.budgets))
	nw := 16
	for i, b := range f.budgets {
		sub := b.sub
		if sub == "" {
			sub = f.commands[0].tool
		}
		names[i] = sub + "/" + b.ref
		nw = max(nw, len(names[i]))
	}
	for i, b := range f.budgets {
		sub := b.sub
		if sub == "" {
			sub = f.commands[0].tool
		}
		sv, okSub := medians[sub]
		rv, okRef := medians[b.ref]
		if !okSub || !okRef {
			absent := b.ref
			if !okSub {
				absent = sub
			}
			fmt.Fprintf(w, "  %-*s %7s  budget %s: no ratio, %s not measured\n", nw, names[i], "-", b.text, absent)
			continue
		}
		ratio := sv / rv
		var ok bool
		var text string
		var bound float64
		switch {
		case b.min > 0:
			ok, text = rateVerdict(ratio, b, sv, rv, max(spreads[sub], spreads[b.ref]))
			bound = b.min
		case b.max > 0:
			ok, text = verdict(ratio, b, time.Duration(sv), time.Duration(rv))
			bound = b.max
		default:
			fmt.Fprintf(w, "  %-*s %7.3f  budget %s\n", nw, names[i], ratio, b.text)
			continue
		}
		if !ok {
			over = true
		}
		fmt.Fprintf(w, "  %-*s %7.3f  budget %-18s (%5.3f)  %s\n", nw, names[i], ratio, b.text, bound, text)
	}
	// CPU per container beside the wall-time budgets: the steadier figure
	// on a shared machine.
	if sub, ok := cpuMedians[f.commands[0].tool]; ok && len(f.budgets) > 0 {
		for _, c := range f.commands[1:] {
			if ref, ok := cpuMedians[c.tool]; ok && ref > 0 {
				fmt.Fprintf(w, "  %-*s %7.3f  CPU time, no budget\n", nw, f.commands[0].tool+"/"+c.tool, sub/ref)
			}
		}
	}
	return over
}

// labelWidth is the width of the tool column: the longest label, at least 10.
func labelWidth(f *figure) int {
	lw := 10
	for _, c := range f.commands {
		lw = max(lw, len(c.tool))
	}
	for _, s := range f.skipped {
		lw = max(lw, len(s.tool))
	}
	return lw
}

// rateStats summarises a series of rates, where low is bad.
type rateStats struct {
	median, p10 float64 // bits per second
	spread      float64 // median / p10: how noisy the series is
}

// summarizeRates computes the median (the mean of the two middle samples
// when their number is even) and the 10th percentile (nearest rank: the
// lowest of up to 10 samples) of rates, which must not be empty.
func summarizeRates(rates []float64) rateStats {
	s := slices.Clone(rates)
	slices.Sort(s)
	n := len(s)
	var st rateStats
	if n%2 == 1 {
		st.median = s[n/2]
	} else {
		st.median = (s[n/2-1] + s[n/2]) / 2
	}
	rank := max((n+9)/10, 1) // ceil(0.1 n)
	st.p10 = s[rank-1]
	if st.p10 > 0 {
		st.spread = st.median / st.p10
	}
	return st
}

// rateVerdict says whether ratio keeps a lower bound b.min, and by how
// much it misses it; a miss smaller than the noise of the two series
// (spread, the larger of their median/p10) is called so.
func rateVerdict(ratio float64, b budget, subject, ref, spread float64) (ok bool, text string) {
	if ratio >= b.min {
		return true, "within budget"
	}
	short := 1 - ratio/b.min
	text = fmt.Sprintf("below budget by %.0f%% (%s, needed %s)", short*100, gbits(subject), gbits(ref*b.min))
	if short < spread-1 {
		text += fmt.Sprintf(", less than the noise (spread %.2f)", spread)
	}
	return false, text
}

// gbits formats a rate in bits per second as Gbit/s.
func gbits(bps float64) string {
	return fmt.Sprintf("%.2f Gbit/s", bps/1e9)
}

// reportMemory prints a memory figure's probes, per container, and tells
// whether the subject is over any budget.
func reportMemory(w io.Writer, f *figure, res *result) (over bool) {
	fmt.Fprintf(w, "  one probe per tool\n")
	fmt.Fprintf(w, "  %-10s %10s %10s  %s\n", "tool", "RSS/ctr", "PSS/ctr", "helper processes")
	per := map[string]memory{} // per container
	for i, c := range f.commands {
		m := res.memory[i]
		n := int64(max(m.containers, 1))
		per[c.tool] = memory{containers: 1, rss: m.rss / n, pss: m.pss / n}
		fmt.Fprintf(w, "  %-10s %10s %10s  %d for %d containers\n", c.tool, mib(m.rss/n), mib(m.pss/n), m.processes, m.containers)
	}
	subject := f.commands[0].tool
	sub := per[subject]
	for _, b := range f.budgets {
		if b.ref == "" {
			text := "within budget"
			if float64(sub.rss) > b.max {
				over = true
				text = fmt.Sprintf("over budget by %.0f%% (PSS %s)", (float64(sub.rss)/b.max-1)*100, mib(sub.pss))
			}
			fmt.Fprintf(w, "  %-16s %s  budget %s  %s\n", subject, mib(sub.rss), b.text, text)
			continue
		}
		ref, s := per[b.ref], sub
		name := subject
		if b.sub != "" {
			name, s = b.sub, per[b.sub]
		}
		ratio := float64(s.rss) / float64(ref.rss)
		text := ""
		if b.max > 0 {
			text = "  within budget"
			if ratio > b.max {
				over = true
				text = fmt.Sprintf("  over budget by %.0f%%", (ratio/b.max-1)*100)
			}
		}
		fmt.Fprintf(w, "  %-16s %7.3f RSS, %5.3f PSS  budget %s%s\n", name+"/"+b.ref,
			ratio, float64(s.pss)/float64(ref.pss), b.text, text)
	}
	return over
}

// printMachine prints what the figures depend on besides the code: the
// run's parameters, the machine's size and load, and where the tools
// store (a runtime directory on disk rather than tmpfs, or podman on vfs
// rather than overlay, changes the container figures).
func printMachine(ctx context.Context, w io.Writer, env *environment) {
	cfg := env.cfg
	fields := strings.Fields(readInfo("/proc/loadavg"))
	if len(fields) > 3 {
		fields = fields[:3]
	}
	fmt.Fprintf(w, "bench: %d rounds after %d warm-up rounds (fewer for the slow figures, as each says), tools alternated; uid %d\n",
		cfg.n, cfg.warmup, os.Getuid())
	fmt.Fprintf(w, "machine: linux %s, %d CPUs, load %s\n",
		readInfo("/proc/sys/kernel/osrelease"), runtime.NumCPU(), strings.Join(fields, " "))
	fmt.Fprintf(w, "sandbox: %s\n", cfg.sandbox)
	fmt.Fprintf(w, "filesystems: $HOME %s, $XDG_RUNTIME_DIR %s; podman's storage driver: %s\n",
		fsType(os.Getenv("HOME")), fsType(os.Getenv("XDG_RUNTIME_DIR")), env.podmanDriver(ctx))
	fmt.Fprintln(w, "spread = p90/median of a series: the machine's noise (1.00 is none); a figure marked busy runs two CPU-bound loops beside it")
}

// fsType names the type of the filesystem holding path, "?" when it
// cannot tell.
func fsType(path string) string {
	if path == "" {
		return "?"
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return "?"
	}
	// The magic numbers of statfs(2) for the filesystems storage sits on.
	switch uint32(st.Type) {
	case 0xef53:
		return "ext4"
	case 0x01021994:
		return "tmpfs"
	case 0x58465342:
		return "xfs"
	case 0x9123683e:
		return "btrfs"
	case 0x794c7630:
		return "overlay"
	}
	return fmt.Sprintf("0x%x", uint32(st.Type))
}

// readInfo reads a small informational file, "?" when it cannot.
func readInfo(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}

// mib formats n bytes in MiB.
func mib(n int64) string {
	return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
}

// ms formats d in milliseconds.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}
