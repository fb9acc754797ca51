// Unit tests (privilege tier: none) of the parsers of os-release, file
// capabilities, sysctl values, subordinate id files, AppArmor profile
// lists and version lines.

package system

import (
	"encoding/hex"
	"reflect"
	"strings"
	"testing"
)

func TestParseOSRelease(t *testing.T) {
	in := `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION_CODENAME=bookworm
ID=debian
# a comment
  ID_LIKE='rhel fedora'
QUOTED="say \"hi\" \\ \$x"
not an assignment
=novalue
BAD KEY=x
EMPTY=
`
	want := map[string]string{
		"PRETTY_NAME": "Debian GNU/Linux 12 (bookworm)", "NAME": "Debian GNU/Linux", "VERSION_ID": "12",
		"VERSION_CODENAME": "bookworm", "ID": "debian", "ID_LIKE": "rhel fedora", "QUOTED": `say "hi" \ $x`, "EMPTY": "",
	}
	if got := ParseOSRelease([]byte(in)); !reflect.DeepEqual(got, want) {
		t.Errorf("ParseOSRelease = %q\nwant %q", got, want)
	}
	if got := ParseOSRelease(nil); len(got) != 0 {
		t.Errorf("ParseOSRelease(nil) = %q", got)
	}
}

func FuzzParseOSRelease(f *testing.F) {
	f.Add("ID=debian\nPRETTY_NAME=\"Debian\"\n")
	f.Add("A='x'\nB=\"a\\\"b\\\"\nC=\"\n")
	f.Fuzz(func(t *testing.T, in string) {
		for k := range ParseOSRelease([]byte(in)) {
			if k == "" || strings.ContainsAny(k, " \t\n\"'=") {
				t.Fatalf("bad key %q from %q", k, in)
			}
		}
	})
}

func mustHex(t testing.TB, s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseFileCaps(t *testing.T) {
	tests := []struct {
		name    string
		hex     string
		want    FileCaps
		wantErr string
	}{
		// Written by `setcap cap_setuid,cap_setgid+ep` and `setcap cap_setuid+p`.
		{name: "setcap +ep", hex: "01000002c0000000000000000000000000000000",
			want: FileCaps{Permitted: 1<<capSetuid | 1<<capSetgid, Effective: true}},
		{name: "setcap +p", hex: "0000000280000000000000000000000000000000",
			want: FileCaps{Permitted: 1 << capSetuid}},
		{name: "revision 1", hex: "01000001800000000000000000",
			wantErr: "12"},
		{name: "revision 1, 12 bytes", hex: "010000018000000000000000",
			want: FileCaps{Permitted: 1 << capSetuid, Effective: true}},
		{name: "revision 3 with a root id and a high capability", hex: "01000003800000000000000001000000000000e9030000",
			wantErr: "24"},
		{name: "revision 3", hex: "0100000380000000000000000100000000000000e9030000",
			want: FileCaps{Permitted: 1<<capSetuid | 1<<32, Effective: true, RootID: 1001}},
		{name: "revision 2 too long", hex: "010000028000000000000000000000000000000000", wantErr: "21 bytes"},
		{name: "unknown revision", hex: "0100000480000000", wantErr: "unknown revision"},
		{name: "too short", hex: "0100", wantErr: "too short"},
		{name: "empty", hex: "", wantErr: "too short"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFileCaps(mustHex(t, tt.hex))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("ParseFileCaps = %+v, want %+v", got, tt.want)
			}
		})
	}
	caps := FileCaps{Permitted: 1 << capSetuid}
	if !caps.Has(capSetuid) || caps.Has(capSetgid) || caps.Has(-1) || caps.Has(64) {
		t.Errorf("Has is wrong for %+v", caps)
	}
}

func FuzzParseFileCaps(f *testing.F) {
	for _, s := range []string{"01000002c0000000000000000000000000000000", "010000018000000000000000",
		"0100000380000000000000000100000000000000e9030000", "00"} {
		b, err := hex.DecodeString(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		caps, err := ParseFileCaps(data)
		if err != nil {
			return
		}
		if n := len(data); n != 12 && n != 20 && n != 24 {
			t.Fatalf("accepted %d bytes: %+v", n, caps)
		}
		if len(data) == 12 && caps.Permitted>>32 != 0 {
			t.Fatalf("revision 1 with high capabilities: %+v", caps)
		}
	})
}

func TestParseRange(t *testing.T) {
	tests := []struct {
		in      string
		lo, hi  uint32
		wantErr bool
	}{
		{in: "1\t0\n", lo: 1, hi: 0},
		{in: "0 2147483647", lo: 0, hi: 2147483647},
		{in: "1000", wantErr: true},
		{in: "a b", wantErr: true},
		{in: "1 b", wantErr: true},
		{in: "1 2 3", wantErr: true},
		{in: "-1 0", wantErr: true},
		{in: "4294967296 0", wantErr: true},
	}
	for _, tt := range tests {
		lo, hi, err := ParseRange([]byte(tt.in))
		if (err != nil) != tt.wantErr || !tt.wantErr && (lo != tt.lo || hi != tt.hi) {
			t.Errorf("ParseRange(%q) = %d, %d, %v", tt.in, lo, hi, err)
		}
	}
}

func TestParseInt(t *testing.T) {
	for in, want := range map[string]int64{"1024\n": 1024, "0": 0, " -1 ": -1} {
		if got, err := ParseInt([]byte(in)); err != nil || got != want {
			t.Errorf("ParseInt(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "1 2", "99999999999999999999"} {
		if _, err := ParseInt([]byte(in)); err == nil {
			t.Errorf("ParseInt(%q) succeeded", in)
		}
	}
}

func FuzzParseRange(f *testing.F) {
	f.Add("1\t0\n")
	f.Add("0 2147483647")
	f.Fuzz(func(t *testing.T, in string) {
		lo, hi, err := ParseRange([]byte(in))
		if err != nil {
			return
		}
		if len(strings.Fields(in)) != 2 {
			t.Fatalf("accepted %q as %d %d", in, lo, hi)
		}
	})
}

func TestNextFreeSubIDs(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
	}{
		{"", 100000},
		{"sbx:100000:65536\n", 165536},
		{"a:100000:65536\nb:165536:65536\n", 231072},
		{"low:1000:10\n", 100000},
		{"# comment\nbad line\nx:y:z\nhigh:300000:1\n", 300001},
		{"max:4294901760:65535\n", 4294967295},
	}
	for _, tt := range tests {
		if got := NextFreeSubIDs([]byte(tt.in)); got != tt.want {
			t.Errorf("NextFreeSubIDs(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func FuzzNextFreeSubIDs(f *testing.F) {
	f.Add("sbx:100000:65536\n")
	f.Add("a:1:2\nb:x:3\n")
	f.Fuzz(func(t *testing.T, in string) {
		if got := NextFreeSubIDs([]byte(in)); got < firstSubID || got > 1<<33 {
			t.Fatalf("NextFreeSubIDs(%q) = %d", in, got)
		}
	})
}

func TestParseAppArmorProfiles(t *testing.T) {
	in := "/usr/local/bin/sandbox (unconfined)\nunprivileged_userns (enforce)\nname with space (complain)\ngarbage\n"
	want := []string{"/usr/local/bin/sandbox", "unprivileged_userns", "name with space"}
	if got := ParseAppArmorProfiles([]byte(in)); !reflect.DeepEqual(got, want) {
		t.Errorf("ParseAppArmorProfiles = %q, want %q", got, want)
	}
}

func FuzzParseAppArmorProfiles(f *testing.F) {
	f.Add("/usr/bin/x (enforce)\n")
	f.Fuzz(func(t *testing.T, in string) {
		for _, p := range ParseAppArmorProfiles([]byte(in)) {
			if p == "" || strings.Contains(p, "\n") {
				t.Fatalf("bad profile name %q from %q", p, in)
			}
		}
	})
}

func TestShortVersion(t *testing.T) {
	tests := []struct{ prog, out, want string }{
		{"slirp4netns", "slirp4netns version 1.2.0\ncommit: 656041d\n", "1.2.0"},
		{"pasta", "pasta unknown version\nCopyright Red Hat\n", ""},
		{"pasta", "pasta 0^20240220.g1e6f92b-1.fc40.x86_64\nCopyright Red Hat\n", "0^20240220.g1e6f92b-1.fc40.x86_64"},
		{"x", "", ""},
		{"x", "\n\n  x version 2\n", "2"},
	}
	for _, tt := range tests {
		if got := shortVersion(tt.prog, tt.out); got != tt.want {
			t.Errorf("shortVersion(%q, %q) = %q, want %q", tt.prog, tt.out, got, tt.want)
		}
	}
}

func TestParseMountPoint(t *testing.T) {
	tests := []struct {
		line, want string
		ok         bool
	}{
		{"36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue", "/mnt/parent", true},
		{`40 30 0:41 / /home/u/a\040b/merged rw - overlay overlay rw,lowerdir=x`, "/home/u/a b/merged", true},
		{`40 30 0:41 / /x\134y rw - tmpfs none rw`, `/x\y`, true},
		{`40 30 0:41 / /bad\04 rw - tmpfs none rw`, `/bad\04`, true},
		{"short line", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := ParseMountPoint(tt.line)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseMountPoint(%q) = %q, %v; want %q, %v", tt.line, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzParseMountPoint(f *testing.F) {
	f.Add(`40 30 0:41 / /home/u/a\040b/merged rw - overlay overlay rw`)
	f.Fuzz(func(t *testing.T, line string) {
		mp, ok := ParseMountPoint(line)
		if !ok && mp != "" {
			t.Errorf("not ok, yet %q", mp)
		}
		if len(mp) > len(line) {
			t.Errorf("mount point %q longer than the line", mp)
		}
	})
}
