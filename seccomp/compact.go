package seccomp

// Why the program is compacted after libseccomp.
//
// libseccomp tests a syscall number against the allowed ones one by one:
// docker's default profile becomes a thousand `jeq` in long chains, one per
// syscall and ABI. The kernel pays for every instruction each time the
// program is loaded (at every container start and every exec): it converts
// the program to eBPF, JITs it, and runs it for every syscall number to
// fill its action cache. So the program handed to seccomp(2) is first
// rewritten into an equivalent, much shorter one.
//
// A chain is a run of `jeq #k` whose false branches lead from one to the
// next, each reached by nothing else, and whose true branches all end (past
// any `ja`) at the same target T (two `ret` of the same value are the same
// target). Nothing in it changes A, so whatever A holds (a syscall number
// or an argument word), the chain means "A in S goes to T, else to EXIT",
// S its values and EXIT the false branch of its last jeq:
//
//	    jeq #1, T               ; S = [1,21] ∪ {39} ∪ [41,45] ∪ ...
//	    jeq #2, T               ;     sorted into intervals:
//	    ...                     ;     jge #1,  next, EXIT ; A < a: below
//	    jeq #21, T              ;     jgt #21, i2, t      ;   all the rest
//	    ...                     ; i2: jeq #39, t, i3      ; one value
//	    jeq #39, T              ; i3: jge #41, next, EXIT
//	    ...                     ;     jgt #45, i4, t
//	    jeq #45, T              ; i4: ...                 ; the last: EXIT
//	EXIT: ...                   ; t:  ret ALLOW (a copy of T), or ja T
//
// The intervals are disjoint and ascending, and the code reaches interval
// i only for an A in none of those before it; so `jge #a` failing means A
// is below every interval left, not in S, and `jgt #b` failing after it
// means a <= A <= b, in S (an interval [0,b] needs no jge: A is unsigned).
// The interval test gives T exactly for A in S and EXIT otherwise, as the
// chain did. A `ret` is a leaf, so a copy of it right after the new code
// answers as T does, and keeps every jump of the new code short; a T that
// is no `ret` is reached through a local `ja`. A chain is replaced only
// when that is shorter.
//
// The program is then laid out again in its order, each chain's code at
// its first jeq, the chain's other instructions dropped, and what nothing
// reaches any more (the rets and `ja` trampolines only the chains used)
// left out; every jump is recomputed from its absolute target. No value is
// changed or reordered except within a chain, so every other instruction
// sees the same A, X and scratch memory as before, and the program returns
// the same value for every input. Should a conditional jump no longer fit
// in its 8 bits (a jump over a chain's new code that used to jump over
// less), the original program is kept: it is correct, only longer.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	"golang.org/x/sys/unix"
)

const opJge = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K

// compact returns a shorter program that gives the same return value as
// filter for every input, or filter itself when nothing in it can be
// shortened or the shorter program cannot be encoded.
func compact(filter []byte) []byte {
	out, err := compactProgram(filter)
	if err != nil || len(out) >= len(filter) {
		return filter
	}
	return out
}

// node is one instruction with its jumps as node numbers: jt and jf for a
// conditional jump, jt for `ja` and for the next instruction of one that
// goes on to it.
type node struct {
	code   uint16
	k      uint32
	jt, jf int
}

func (n node) isRet() bool { return n.code&0x07 == unix.BPF_RET }

// isCond tells a conditional jump.
func (n node) isCond() bool { return n.code&0x07 == unix.BPF_JMP && n.code != opJa }

// fallsThrough tells an instruction that goes on to the next one.
func (n node) fallsThrough() bool { return n.code&0x07 != unix.BPF_JMP && !n.isRet() }

// chain is a run of jeq that compactProgram replaces.
type chain struct {
	members []int    // node numbers, the first where the new code goes
	target  int      // where every true branch ends, past any ja
	exit    int      // the false branch of the last member
	values  []uint32 // sorted, no duplicates
	first   int      // node number of the new code's first instruction
}

// interval is [lo, hi] of a chain's values.
type interval struct{ lo, hi uint32 }

// compactProgram rewrites filter with every chain that gets shorter
// replaced by its interval test. It fails if filter is no well-formed
// program or a jump of the result does not fit.
func compactProgram(filter []byte) ([]byte, error) {
	prog, err := decode(filter)
	if err != nil {
		return nil, err
	}
	n := len(prog)
	chains := findChains(prog)
	// entry maps a node to where a jump to it goes: the new code, for the
	// first jeq of a replaced chain.
	entry := make([]int, n)
	for i := range entry {
		entry[i] = i
	}
	dropped := make([]bool, n)
	nodes := append([]node(nil), prog...)
	next := n // new code is numbered after the program
	for i := range chains {
		c := &chains[i]
		c.first = next
		next += newLen(c)
		entry[c.members[0]] = c.first
		for _, m := range c.members {
			dropped[m] = true
		}
	}
	for i := range nodes {
		switch {
		case nodes[i].isCond():
			nodes[i].jt, nodes[i].jf = entry[nodes[i].jt], entry[nodes[i].jf]
		case !nodes[i].isRet():
			nodes[i].jt = entry[nodes[i].jt]
		}
	}
	heads := map[int]*chain{}
	for i := range chains {
		c := &chains[i]
		heads[c.members[0]] = c
		nodes = append(nodes, intervalCode(c, prog, entry)...)
	}
	var layout []int
	for pc := 0; pc < n; pc++ {
		if c, ok := heads[pc]; ok {
			for id := c.first; id < c.first+newLen(c); id++ {
				layout = append(layout, id)
			}
			continue
		}
		if !dropped[pc] {
			layout = append(layout, pc)
		}
	}
	return encode(nodes, live(nodes, layout))
}

// decode reads a raw program into nodes with absolute jump targets.
func decode(filter []byte) ([]node, error) {
	if len(filter) == 0 || len(filter)%instructionSize != 0 {
		return nil, fmt.Errorf("program of %d bytes: not whole instructions", len(filter))
	}
	n := len(filter) / instructionSize
	prog := make([]node, n)
	for pc := range prog {
		raw := filter[pc*instructionSize:]
		in := node{code: binary.NativeEndian.Uint16(raw), k: binary.NativeEndian.Uint32(raw[4:])}
		switch {
		case in.code == opJa:
			if uint64(in.k) >= uint64(n-pc-1) {
				return nil, fmt.Errorf("instruction %d: ja %d leaves the program", pc, in.k)
			}
			in.jt = pc + 1 + int(in.k)
		case in.isCond():
			switch in.code &^ unix.BPF_X {
			case opJeq, opJgt, opJge, opJset:
			default:
				return nil, fmt.Errorf("instruction %d: unknown jump %#x", pc, in.code)
			}
			in.jt, in.jf = pc+1+int(raw[2]), pc+1+int(raw[3])
			if in.jt >= n || in.jf >= n {
				return nil, fmt.Errorf("instruction %d: jump leaves the program", pc)
			}
		case in.fallsThrough():
			if pc == n-1 {
				return nil, errors.New("program does not end in a return")
			}
			in.jt = pc + 1
		}
		prog[pc] = in
	}
	return prog, nil
}

// findChains finds the chains of prog that get shorter as interval tests.
func findChains(prog []node) []chain {
	// preds counts the ways into each instruction: a chain's later
	// members must have one only, the false branch of the one before.
	preds := make([]int, len(prog))
	preds[0]++
	for pc, in := range prog {
		switch {
		case in.code == opJa:
			preds[in.jt]++
		case in.isCond():
			preds[in.jt]++
			preds[in.jf]++
		case in.fallsThrough():
			preds[pc+1]++
		}
	}
	var chains []chain
	taken := make([]bool, len(prog))
	for pc, in := range prog {
		if in.code != opJeq || taken[pc] {
			continue
		}
		c := chain{members: []int{pc}, target: resolve(prog, in.jt)}
		last := pc
		for {
			next := prog[last].jf
			if prog[next].code != opJeq || preds[next] != 1 || !sameTarget(prog, c.target, resolve(prog, prog[next].jt)) {
				break
			}
			c.members = append(c.members, next)
			last = next
		}
		c.exit = prog[last].jf
		for _, m := range c.members {
			taken[m] = true
			c.values = append(c.values, prog[m].k)
		}
		sort.Slice(c.values, func(i, j int) bool { return c.values[i] < c.values[j] })
		c.values = dedup(c.values)
		if newLen(&c) < len(c.members) {
			chains = append(chains, c)
		}
	}
	return chains
}

// resolve follows `ja` from pc to the instruction that does something.
func resolve(prog []node, pc int) int {
	for prog[pc].code == opJa {
		pc = prog[pc].jt
	}
	return pc
}

// sameTarget tells whether reaching a or b gives the same result: the same
// instruction, or two returns of the same value.
func sameTarget(prog []node, a, b int) bool {
	return a == b || prog[a].isRet() && prog[b].isRet() && prog[a].code == prog[b].code && prog[a].k == prog[b].k
}

func dedup(sorted []uint32) []uint32 {
	out := sorted[:0]
	for i, v := range sorted {
		if i == 0 || v != sorted[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// intervals splits sorted values into runs of consecutive numbers.
func intervals(values []uint32) []interval {
	var out []interval
	for _, v := range values {
		if len(out) > 0 && uint64(out[len(out)-1].hi)+1 == uint64(v) {
			out[len(out)-1].hi = v
			continue
		}
		out = append(out, interval{v, v})
	}
	return out
}

// intervalLen is the length of the interval test of values, without T.
func intervalLen(values []uint32) int {
	n := 0
	for _, iv := range intervals(values) {
		n += intervalSize(iv)
	}
	return n
}

// intervalSize is the length of the test of one interval: a jeq for one
// value, else a jgt after a jge (which [0,b] does without, A being never
// below 0).
func intervalSize(iv interval) int {
	switch {
	case iv.lo == iv.hi:
		return 1
	case iv.lo == 0:
		return 1
	}
	return 2
}

// newLen is the length of a chain's new code: the test and the local T.
func newLen(c *chain) int { return intervalLen(c.values) + 1 }

// intervalCode is the new code of c, numbered from c.first; jumps out of
// it go through entry.
func intervalCode(c *chain, prog []node, entry []int) []node {
	exit := entry[c.exit]
	local := c.first + newLen(c) - 1
	ivs := intervals(c.values)
	var out []node
	for i, iv := range ivs {
		here := c.first + len(out)
		next := exit
		if i+1 < len(ivs) {
			// The next interval's code follows this one's.
			next = here + intervalSize(iv)
		}
		switch {
		case iv.lo == iv.hi:
			out = append(out, node{code: opJeq, k: iv.lo, jt: local, jf: next})
		case iv.lo == 0:
			out = append(out, node{code: opJgt, k: iv.hi, jt: next, jf: local})
		default:
			out = append(out,
				node{code: opJge, k: iv.lo, jt: here + 1, jf: exit},
				node{code: opJgt, k: iv.hi, jt: next, jf: local})
		}
	}
	if t := prog[c.target]; t.isRet() {
		out = append(out, node{code: t.code, k: t.k})
	} else {
		out = append(out, node{code: opJa, jt: entry[c.target]})
	}
	return out
}

// live keeps of layout the nodes reachable from its first.
func live(nodes []node, layout []int) []int {
	reached := make(map[int]bool, len(layout))
	work := []int{layout[0]}
	for len(work) > 0 {
		id := work[len(work)-1]
		work = work[:len(work)-1]
		if reached[id] {
			continue
		}
		reached[id] = true
		switch in := nodes[id]; {
		case in.isCond():
			work = append(work, in.jt, in.jf)
		case !in.isRet():
			work = append(work, in.jt)
		}
	}
	var out []int
	for _, id := range layout {
		if reached[id] {
			out = append(out, id)
		}
	}
	return out
}

// encode writes the nodes of layout in order as a raw program, every jump
// recomputed.
func encode(nodes []node, layout []int) ([]byte, error) {
	pos := make(map[int]int, len(layout))
	for i, id := range layout {
		pos[id] = i
	}
	// offset is the jump from the instruction at i to node id.
	offset := func(i, id int) (int, error) {
		to, ok := pos[id]
		if !ok || to <= i {
			return 0, fmt.Errorf("instruction %d: jump to a dropped or earlier instruction", i)
		}
		return to - i - 1, nil
	}
	out := make([]byte, 0, len(layout)*instructionSize)
	for i, id := range layout {
		in := nodes[id]
		var jt, jf int
		k := in.k
		switch {
		case in.code == opJa:
			d, err := offset(i, in.jt)
			if err != nil {
				return nil, err
			}
			k = uint32(d)
		case in.isCond():
			var err error
			if jt, err = offset(i, in.jt); err != nil {
				return nil, err
			}
			if jf, err = offset(i, in.jf); err != nil {
				return nil, err
			}
			if jt > 255 || jf > 255 {
				return nil, fmt.Errorf("instruction %d: jump of %d, %d does not fit", i, jt, jf)
			}
		case in.fallsThrough():
			// What it goes on to is reached through it, so kept
			// right after it.
			if i+1 == len(layout) || layout[i+1] != in.jt {
				return nil, fmt.Errorf("instruction %d: what follows it was moved", i)
			}
		}
		out = binary.NativeEndian.AppendUint16(out, in.code)
		out = append(out, uint8(jt), uint8(jf))
		out = binary.NativeEndian.AppendUint32(out, k)
	}
	return out, nil
}
