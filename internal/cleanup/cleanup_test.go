// Unit tests (privilege tier: none) of the cleanup stack.
package cleanup

import (
	"reflect"
	"testing"
)

func TestClean(t *testing.T) {
	var ran []int
	c := Make(func() { ran = append(ran, 1) })
	c.Add(func() { ran = append(ran, 2) })
	c.Add(func() { ran = append(ran, 3) })
	c.Clean()
	if want := []int{3, 2, 1}; !reflect.DeepEqual(ran, want) {
		t.Errorf("ran %v, want %v (newest first)", ran, want)
	}
	c.Clean()
	if len(ran) != 3 {
		t.Errorf("a second Clean ran %v again", ran[3:])
	}
}

func TestRelease(t *testing.T) {
	ran := false
	func() {
		c := Make(func() { ran = true })
		defer c.Clean()
		c.Release()
	}()
	if ran {
		t.Error("a released step ran")
	}
	var z Cleanup
	z.Add(func() { ran = true })
	z.Clean()
	if !ran {
		t.Error("the zero Cleanup did not run its step")
	}
}
