package main

import (
	"reflect"
	"testing"
	"time"

	"sandbox/container"
)

func TestTopColumns(t *testing.T) {
	p := container.TopProcess{User: "root", PID: 1, PPID: 0, CPU: 1, Elapsed: time.Second, TTY: "?", Time: 0, Command: "/bin/sleep 30"}
	for _, tc := range []struct {
		args    []string
		headers []string
		row     []string
	}{
		{nil, container.TopHeader, p.Row()},
		{[]string{"-ef"}, container.TopHeader, p.Row()},
		{[]string{"pid", "comm"}, []string{"PID", "COMMAND"}, []string{"1", "sleep"}},
		{[]string{"pid,args"}, []string{"PID", "COMMAND"}, []string{"1", "/bin/sleep 30"}},
		{[]string{"-o", "user,ppid"}, []string{"USER", "PPID"}, []string{"root", "0"}},
	} {
		h, cols, err := topColumns(tc.args)
		if err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		if !reflect.DeepEqual(h, tc.headers) || !reflect.DeepEqual(topRow(p, cols), tc.row) {
			t.Errorf("%q: %q %q, want %q %q", tc.args, h, topRow(p, cols), tc.headers, tc.row)
		}
	}
	if _, _, err := topColumns([]string{"pid", "bogus"}); err == nil {
		t.Error("an unknown descriptor was accepted")
	}
}
