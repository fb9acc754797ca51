// Unit tests (privilege tier: none) of cutting the runtime spec out of a
// configuration before ps decodes it.

package container

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestWithoutSpec(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"id":"a","spec":{"x":[1,{"y":"}]\"{"}],"z":"\\"},"name":"n"}`, `{"id":"a","spec":{},"name":"n"}`},
		{"{ \"spec\" :\n {\"a\":\"b\\\\\"} }", "{ \"spec\" :\n {} }"},
		{`{"SPEC":{"a":1}}`, `{"SPEC":{}}`},
		{`{"a":true,"b":null,"c":-1.5e3,"d":[],"spec":{}}`, `{"a":true,"b":null,"c":-1.5e3,"d":[],"spec":{}}`},
		// Left as they are, for the decoder to judge.
		{`{"sp\u0065c":{"a":1}}`, `{"sp\u0065c":{"a":1}}`},
		{`{"spec":"x"}`, `{"spec":"x"}`},
		{`{"spec":{"a":"b}`, `{"spec":{"a":"b}`},
		{`{"id":"a" "spec":{"a":1}}`, `{"id":"a" "spec":{"a":1}}`},
		{`[{"spec":{"a":1}}]`, `[{"spec":{"a":1}}]`},
		{`{"a":{"spec":{"b":1}}}`, `{"a":{"spec":{"b":1}}}`},
		{``, ``},
	}
	for _, tt := range tests {
		if got := string(withoutSpec([]byte(tt.in))); got != tt.want {
			t.Errorf("withoutSpec(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	data, err := os.ReadFile(filepath.Join("testdata", "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(withoutSpec(data)); n > 4096 {
		t.Errorf("testdata/config.json without its spec: %d bytes, want the spec cut out", n)
	}
}

// FuzzWithoutSpec: whatever decodes as a configuration decodes the same
// with its spec cut out.
func FuzzWithoutSpec(f *testing.F) {
	data, err := os.ReadFile(filepath.Join("testdata", "config.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"id":"a","spec":{"x":[1,{"y":"}]\"{"}]},"name":"n"}`))
	f.Add([]byte(`{"Spec":{"process":{"terminal":true}},"spec":{},"host":{"ports":[{"hostPort":80}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var want configHead
		if err := configJSON.Unmarshal(data, &want); err != nil {
			return // not a configuration
		}
		cut := withoutSpec(append([]byte(nil), data...))
		var got configHead
		if err := configJSON.Unmarshal(cut, &got); err != nil {
			t.Fatalf("%q decodes, %q does not: %v", data, cut, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q decodes as\n%+v\n%q as\n%+v", data, want, cut, got)
		}
	})
}
