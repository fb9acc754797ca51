// Package cleanup is a stack of undo steps for setup that is made in
// several steps: each step that succeeds adds what undoes it; a failure
// part-way runs the steps added so far, newest first; success releases
// them. It imports nothing of sandbox.
//
//	c := cleanup.Make(func() { removeDir(dir) })
//	defer c.Clean()
//	... more steps, each c.Add(undo) ...
//	c.Release() // all done: keep what was made
package cleanup

// Cleanup is the undo steps added so far. The zero value is an empty
// stack, ready to use. It is not safe for use by more than one goroutine.
type Cleanup struct {
	fns []func()
}

// Make starts a stack with f.
func Make(f func()) Cleanup {
	return Cleanup{fns: []func(){f}}
}

// Add pushes f: it runs before every step added earlier.
func (c *Cleanup) Add(f func()) {
	c.fns = append(c.fns, f)
}

// Clean runs the steps not released, newest first, and empties the
// stack: a second Clean, or one after Release, does nothing.
func (c *Cleanup) Clean() {
	fns := c.fns
	c.fns = nil
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
}

// Release forgets the steps: the setup succeeded and keeps what it made.
func (c *Cleanup) Release() {
	c.fns = nil
}
