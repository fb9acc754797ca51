// Unit tests (privilege tier: none) of id mappings: building, parsing,
// translating and formatting them.

package userns

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func TestMapping(t *testing.T) {
	tests := []struct {
		name   string
		hostID int
		ranges []Range
		want   []IDMap
	}{
		{name: "no subordinate ids", hostID: 1000,
			want: []IDMap{{0, 1000, 1}}},
		{name: "one range", hostID: 1000, ranges: []Range{{100000, 65536}},
			want: []IDMap{{0, 1000, 1}, {1, 100000, 65536}}},
		{name: "ranges follow each other in order", hostID: 1001, ranges: []Range{{200000, 10}, {100000, 5}},
			want: []IDMap{{0, 1001, 1}, {1, 200000, 10}, {11, 100000, 5}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Mapping(tt.hostID, tt.ranges)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Mapping(%d, %v) = %v, want %v", tt.hostID, tt.ranges, got, tt.want)
			}
		})
	}
}

func TestSize(t *testing.T) {
	tests := []struct {
		m    []IDMap
		want uint32
	}{
		{nil, 0},
		{[]IDMap{{0, 1000, 1}}, 1},
		{[]IDMap{{0, 1000, 1}, {1, 100000, 65536}}, 65537},
		{[]IDMap{{0, 1, 4294967294}, {4294967294, 0, 1}}, 4294967295},
	}
	for _, tt := range tests {
		if got := Size(tt.m); got != tt.want {
			t.Errorf("Size(%v) = %d, want %d", tt.m, got, tt.want)
		}
	}
}

func TestKeepID(t *testing.T) {
	tests := []struct {
		name       string
		uid, total uint32
		want       []IDMap
		wantErr    string
	}{
		{name: "uid 0", uid: 0, total: 65537,
			want: []IDMap{{0, 0, 1}, {1, 1, 65536}}},
		{name: "uid in the middle", uid: 1000, total: 65537,
			want: []IDMap{{0, 1, 1000}, {1000, 0, 1}, {1001, 1001, 64536}}},
		{name: "uid at the end", uid: 65536, total: 65537,
			want: []IDMap{{0, 1, 65536}, {65536, 0, 1}}},
		{name: "smallest namespace, uid 1", uid: 1, total: 2,
			want: []IDMap{{0, 1, 1}, {1, 0, 1}}},
		{name: "uid just outside", uid: 65537, total: 65537,
			wantErr: "keep-id needs id 65537 inside a namespace of 65537 ids"},
		{name: "uid far outside", uid: 1000, total: 1,
			wantErr: "keep-id needs id 1000 inside a namespace of 1 ids"},
		{name: "single-id namespace", uid: 0, total: 1,
			wantErr: "too few subordinate ids"},
		{name: "empty namespace", uid: 0, total: 0,
			wantErr: "namespace of 0 ids"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := KeepID(tt.uid, tt.total)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("KeepID(%d, %d) error = %v, want one containing %q", tt.uid, tt.total, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("KeepID(%d, %d): %v", tt.uid, tt.total, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("KeepID(%d, %d) = %v, want %v", tt.uid, tt.total, got, tt.want)
			}
			checkKeepID(t, tt.uid, tt.total, got)
		})
	}
}

// checkKeepID asserts KeepID's promise: m covers exactly the inside ids
// 0..total-1, maps them one to one onto the keeper's 0..total-1, and maps
// uid to the keeper's 0.
func checkKeepID(t *testing.T, uid, total uint32, m []IDMap) {
	t.Helper()
	if Size(m) != total {
		t.Fatalf("KeepID(%d, %d) = %v covers %d ids", uid, total, m, Size(m))
	}
	var next uint32
	for _, e := range m {
		if e.Size == 0 || e.ContainerID != next {
			t.Fatalf("KeepID(%d, %d) = %v: entry %v leaves a gap or is empty", uid, total, m, e)
		}
		next += e.Size
	}
	host := append([]IDMap(nil), m...)
	sort.Slice(host, func(i, j int) bool { return host[i].HostID < host[j].HostID })
	next = 0
	for _, e := range host {
		if e.HostID != next {
			t.Fatalf("KeepID(%d, %d) = %v: keeper ids not covered one to one", uid, total, m)
		}
		next += e.Size
	}
	if h, ok := ToHost(m, uid); !ok || h != 0 {
		t.Fatalf("KeepID(%d, %d) = %v maps uid to %d, %v; want 0", uid, total, m, h, ok)
	}
	// The ids around uid keep their order.
	for _, id := range []uint32{0, uid - 1, uid + 1, total - 1} {
		if id >= total || id == uid {
			continue
		}
		want := id + 1
		if id > uid {
			want = id
		}
		if h, ok := ToHost(m, id); !ok || h != want {
			t.Fatalf("KeepID(%d, %d) = %v maps %d to %d, %v; want %d", uid, total, m, id, h, ok, want)
		}
	}
	if _, ok := ToHost(m, total); ok {
		t.Fatalf("KeepID(%d, %d) = %v maps %d, outside the namespace", uid, total, m, total)
	}
}

func FuzzKeepID(f *testing.F) {
	f.Add(uint32(0), uint32(65537))
	f.Add(uint32(1000), uint32(65537))
	f.Add(uint32(65536), uint32(65537))
	f.Add(uint32(4294967294), uint32(4294967295))
	f.Add(uint32(5), uint32(1))
	f.Fuzz(func(t *testing.T, uid, total uint32) {
		m, err := KeepID(uid, total)
		if total < 2 || uid >= total {
			if err == nil {
				t.Fatalf("KeepID(%d, %d) = %v, want an error", uid, total, m)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("id %d inside a namespace of %d ids", uid, total)) {
				t.Fatalf("KeepID(%d, %d) error %q does not name the values", uid, total, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("KeepID(%d, %d): %v", uid, total, err)
		}
		checkKeepID(t, uid, total, m)
	})
}

func TestParseIDMap(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		want    []IDMap
		wantErr string
	}{
		{name: "empty", data: ""},
		{name: "kernel layout", data: "         0       1000          1\n         1     100000      65536\n",
			want: []IDMap{{0, 1000, 1}, {1, 100000, 65536}}},
		{name: "initial namespace", data: "0 0 4294967295\n",
			want: []IDMap{{0, 0, 4294967295}}},
		{name: "blank lines and tabs", data: "\n0\t1000\t1\n\n",
			want: []IDMap{{0, 1000, 1}}},
		{name: "two fields", data: "0 1000\n",
			wantErr: `id map line "0 1000": want INSIDE OUTSIDE COUNT`},
		{name: "four fields", data: "0 1000 1 2\n",
			wantErr: `id map line "0 1000 1 2"`},
		{name: "not a number", data: "0 x 1\n",
			wantErr: `id map line "0 x 1"`},
		{name: "over 32 bits", data: "0 0 4294967296\n",
			wantErr: `id map line "0 0 4294967296"`},
		{name: "negative", data: "-1 0 1\n",
			wantErr: `id map line "-1 0 1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseIDMap([]byte(tt.data))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseIDMap(%q) error = %v, want one containing %q", tt.data, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseIDMap(%q): %v", tt.data, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseIDMap(%q) = %v, want %v", tt.data, got, tt.want)
			}
		})
	}
}

func FuzzParseIDMap(f *testing.F) {
	f.Add([]byte("         0       1000          1\n         1     100000      65536\n"))
	f.Add([]byte("0 0 4294967295\n"))
	f.Add([]byte("0 1000\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseIDMap(data)
		if err != nil {
			return
		}
		// Formatting as newuidmap takes it and parsing again is the
		// identity.
		args := mapArgs(m)
		if len(args) != 3*len(m) {
			t.Fatalf("mapArgs(%v) = %q", m, args)
		}
		var b strings.Builder
		for i := 0; i < len(args); i += 3 {
			fmt.Fprintf(&b, "%s %s %s\n", args[i], args[i+1], args[i+2])
		}
		again, err := ParseIDMap([]byte(b.String()))
		if err != nil {
			t.Fatalf("reparse of %q: %v", b.String(), err)
		}
		if !reflect.DeepEqual(again, m) {
			t.Fatalf("reparse of %q = %v, want %v", b.String(), again, m)
		}
	})
}

func TestToHost(t *testing.T) {
	m := []IDMap{{0, 1000, 1}, {1, 100000, 65536}}
	tests := []struct {
		id     uint32
		want   uint32
		wantOK bool
	}{
		{0, 1000, true},
		{1, 100000, true},
		{2, 100001, true},
		{65536, 165535, true},
		{65537, 0, false},
		{4294967295, 0, false},
	}
	for _, tt := range tests {
		got, ok := ToHost(m, tt.id)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("ToHost(%v, %d) = %d, %v; want %d, %v", m, tt.id, got, ok, tt.want, tt.wantOK)
		}
	}
	if _, ok := ToHost(nil, 0); ok {
		t.Errorf("ToHost(nil, 0) found a mapping")
	}
	// An entry of size 0 maps nothing, not even its first id.
	if _, ok := ToHost([]IDMap{{5, 10, 0}}, 5); ok {
		t.Errorf("ToHost maps through an empty entry")
	}
}

func TestMapArgs(t *testing.T) {
	tests := []struct {
		m    []IDMap
		want []string
	}{
		{nil, []string{}},
		{[]IDMap{{0, 1000, 1}}, []string{"0", "1000", "1"}},
		{[]IDMap{{0, 1000, 1}, {1, 100000, 65536}}, []string{"0", "1000", "1", "1", "100000", "65536"}},
		{[]IDMap{{4294967295, 4294967295, 4294967295}}, []string{"4294967295", "4294967295", "4294967295"}},
	}
	for _, tt := range tests {
		if got := mapArgs(tt.m); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("mapArgs(%v) = %q, want %q", tt.m, got, tt.want)
		}
	}
}
