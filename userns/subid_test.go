// Unit tests (privilege tier: none) of the /etc/subuid and getsubids parsers.

package userns

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestParseSubIDs(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		user    string
		id      int
		want    []Range
		wantErr string // fragment of the error; "" means no error
	}{
		{name: "empty file", data: "", user: "alice", id: 1000},
		{name: "by name", data: "alice:100000:65536\n", user: "alice", id: 1000,
			want: []Range{{100000, 65536}}},
		{name: "by numeric id", data: "1000:100000:65536\n", user: "alice", id: 1000,
			want: []Range{{100000, 65536}}},
		{name: "other users skipped", data: "bob:165536:65536\nalice:100000:65536\ncarol:231072:65536\n", user: "alice", id: 1000,
			want: []Range{{100000, 65536}}},
		{name: "other numeric ids skipped", data: "1001:165536:65536\n", user: "alice", id: 1000},
		{name: "several ranges in file order", data: "alice:200000:10\n1000:100000:5\n", user: "alice", id: 1000,
			want: []Range{{200000, 10}, {100000, 5}}},
		{name: "comments, blank lines and spaces", data: "# subordinate ids\n\n   \n  alice:100000:65536  \n\t# alice:1:1\n", user: "alice", id: 1000,
			want: []Range{{100000, 65536}}},
		{name: "no trailing newline", data: "alice:100000:65536", user: "alice", id: 1000,
			want: []Range{{100000, 65536}}},
		{name: "zero count skipped", data: "alice:100000:0\nalice:200000:1\n", user: "alice", id: 1000,
			want: []Range{{200000, 1}}},
		{name: "largest valid range", data: "alice:1:4294967294\n", user: "alice", id: 1000,
			want: []Range{{1, 4294967294}}},
		{name: "last valid id", data: "alice:4294967294:1\n", user: "alice", id: 1000,
			want: []Range{{4294967294, 1}}},
		{name: "range reaching -1", data: "alice:4294967295:1\n", user: "alice", id: 1000,
			wantErr: `line 1 "alice:4294967295:1": range ends past the largest id`},
		{name: "range overflowing", data: "alice:4294967000:65536\n", user: "alice", id: 1000,
			wantErr: "range ends past the largest id"},
		{name: "start over 32 bits", data: "alice:4294967296:1\n", user: "alice", id: 1000,
			wantErr: `line 1 "alice:4294967296:1": bad start`},
		{name: "count over 32 bits", data: "alice:1:4294967296\n", user: "alice", id: 1000,
			wantErr: `line 1 "alice:1:4294967296": bad count`},
		{name: "two fields", data: "# c\nalice:100000\n", user: "alice", id: 1000,
			wantErr: `line 2 "alice:100000": want NAME:START:COUNT`},
		{name: "four fields", data: "alice:1:2:3\n", user: "alice", id: 1000,
			wantErr: `line 1 "alice:1:2:3": want NAME:START:COUNT`},
		// A malformed line is an error even when it names someone else:
		// the file is broken, and the user should hear of it.
		{name: "malformed line of another user", data: "bob:1\nalice:100000:65536\n", user: "alice", id: 1000,
			wantErr: `line 1 "bob:1"`},
		{name: "negative start", data: "alice:-1:10\n", user: "alice", id: 1000,
			wantErr: `line 1 "alice:-1:10": bad start`},
		{name: "non-numeric count", data: "alice:100000:lots\n", user: "alice", id: 1000,
			wantErr: `line 1 "alice:100000:lots": bad count`},
		{name: "empty count", data: "alice:100000:\n", user: "alice", id: 1000,
			wantErr: "bad count"},
		// Other users' numbers are not checked: only the lines that apply.
		{name: "bad numbers of another user ignored", data: "bob:x:y\nalice:100000:65536\n", user: "alice", id: 1000,
			want: []Range{{100000, 65536}}},
		{name: "name is not a prefix match", data: "alice2:100000:65536\nalic:1:1\n", user: "alice", id: 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSubIDs([]byte(tt.data), tt.user, tt.id)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseSubIDs(%q) error = %v, want one containing %q", tt.data, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSubIDs(%q): %v", tt.data, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseSubIDs(%q) = %v, want %v", tt.data, got, tt.want)
			}
		})
	}
}

func TestParseGetsubids(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		want    []Range
		wantErr string
	}{
		{name: "empty", out: ""},
		{name: "one range", out: "0: alice 100000 65536\n", want: []Range{{100000, 65536}}},
		{name: "several ranges, blank lines, spaces", out: "\n0: alice 100000 65536\n  1:  alice\t200000 10  \n\n",
			want: []Range{{100000, 65536}, {200000, 10}}},
		{name: "zero count dropped", out: "0: alice 100000 0\n"},
		{name: "overflowing range dropped", out: "0: alice 4294967295 1\n"},
		{name: "no colon on index", out: "0 alice 100000 65536\n",
			wantErr: `getsubids line "0 alice 100000 65536": want "N: NAME START COUNT"`},
		{name: "too few fields", out: "0: alice 100000\n",
			wantErr: `getsubids line "0: alice 100000"`},
		{name: "bad start", out: "0: alice x 65536\n",
			wantErr: `getsubids line "0: alice x 65536": bad start`},
		{name: "bad count", out: "0: alice 100000 -1\n",
			wantErr: `getsubids line "0: alice 100000 -1": bad count`},
		{name: "count over 32 bits", out: "0: alice 1 4294967296\n",
			wantErr: "bad count"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseGetsubids([]byte(tt.out))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseGetsubids(%q) error = %v, want one containing %q", tt.out, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseGetsubids(%q): %v", tt.out, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseGetsubids(%q) = %v, want %v", tt.out, got, tt.want)
			}
		})
	}
}

// checkRanges asserts what every range handed to Mapping must satisfy: not
// empty, and not reaching id 4294967295 ((uid_t)-1).
func checkRanges(t *testing.T, ranges []Range) {
	t.Helper()
	for _, r := range ranges {
		if r.Count == 0 {
			t.Fatalf("empty range %v returned", r)
		}
		if uint64(r.Start)+uint64(r.Count)-1 > 0xfffffffe {
			t.Fatalf("range %v reaches past the largest id", r)
		}
	}
}

func FuzzParseSubIDs(f *testing.F) {
	f.Add([]byte("alice:100000:65536\n1000:200000:10\n# comment\n\nbob:1:2\n"), "alice", 1000)
	f.Add([]byte("alice:4294967294:1\nalice:0:0\n"), "alice", 0)
	f.Add([]byte("alice:1:2:3"), "alice", -1)
	f.Fuzz(func(t *testing.T, data []byte, name string, id int) {
		ranges, err := ParseSubIDs(data, name, id)
		if err != nil {
			if ranges != nil {
				t.Fatalf("ranges %v returned with error %v", ranges, err)
			}
			return
		}
		checkRanges(t, ranges)
		// A range can only come from a NAME:START:COUNT line.
		if len(ranges) > 0 && !strings.Contains(string(data), ":") {
			t.Fatalf("ranges %v from a file without ':'", ranges)
		}
		// Re-serialising the result and parsing it again is the identity.
		var b strings.Builder
		for _, r := range ranges {
			fmt.Fprintf(&b, "%s:%d:%d\n", "u", r.Start, r.Count)
		}
		again, err := ParseSubIDs([]byte(b.String()), "u", -1)
		if err != nil {
			t.Fatalf("reparse of %q: %v", b.String(), err)
		}
		if !reflect.DeepEqual(again, ranges) {
			t.Fatalf("reparse of %q = %v, want %v", b.String(), again, ranges)
		}
	})
}

func FuzzParseGetsubids(f *testing.F) {
	f.Add([]byte("0: alice 100000 65536\n1: alice 200000 10\n"))
	f.Add([]byte("0: alice 4294967295 1\n"))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, out []byte) {
		ranges, err := ParseGetsubids(out)
		if err != nil {
			return
		}
		checkRanges(t, ranges)
	})
}
