package attach

// DetachScanner finds the detach keys in an input stream: Scan returns
// what to pass on of each read and whether the sequence completed. Bytes
// that begin the sequence are held back until it completes (detach) or
// breaks (then they are passed on).
type DetachScanner struct {
	Keys    []byte
	matched int
}

// Scan passes p through the scanner.
func (d *DetachScanner) Scan(p []byte) ([]byte, bool) {
	if len(d.Keys) == 0 {
		return p, false
	}
	var out []byte
	for _, b := range p {
		if b == d.Keys[d.matched] {
			if d.matched++; d.matched == len(d.Keys) {
				return out, true
			}
			continue
		}
		out = append(out, d.Keys[:d.matched]...)
		d.matched = 0
		if b == d.Keys[0] {
			d.matched = 1
			continue
		}
		out = append(out, b)
	}
	return out, false
}
