package prerun

/*
int sandbox_hand_off_teardown(void);
*/
import "C"

// HandOffTeardown starts a small process that shares this one's address
// space and outlives it by a moment, so that the kernel tears the address
// space down after this process's parent has its exit status
// (teardown.c). Call it right before the process exits. It returns the
// holder's pid, or 0 when none started: the exit is then as it always
// was.
func HandOffTeardown() (holder int) {
	if pid := C.sandbox_hand_off_teardown(); pid > 0 {
		return int(pid)
	}
	return 0
}
