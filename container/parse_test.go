// Unit tests (privilege tier: none) of the flag parsers: volumes, mounts,
// tmpfs, sizes, environment and labels.

package container

import (
	"path"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"sandbox/spec"
)

// checkErr fails unless err matches wantErr: nil for "", else an error
// containing wantErr. It reports whether the call was expected to succeed.
func checkErr(t *testing.T, call string, err error, wantErr string) bool {
	t.Helper()
	if wantErr == "" {
		if err != nil {
			t.Fatalf("%s: %v", call, err)
		}
		return true
	}
	if err == nil || !strings.Contains(err.Error(), wantErr) {
		t.Fatalf("%s error = %v, want one containing %q", call, err, wantErr)
	}
	return false
}

func isAbsClean(p string) bool { return path.IsAbs(p) && path.Clean(p) == p }

func TestParseVolume(t *testing.T) {
	tests := []struct {
		in      string
		want    spec.Mount
		wantErr string
	}{
		{in: "/src:/dst", want: spec.Mount{Type: "bind", Source: "/src", Destination: "/dst"}},
		{in: "/src:/dst:ro", want: spec.Mount{Type: "bind", Source: "/src", Destination: "/dst", ReadOnly: true}},
		{in: "/src:/dst:rw", want: spec.Mount{Type: "bind", Source: "/src", Destination: "/dst"}},
		{in: "/src:/dst:z", want: spec.Mount{Type: "bind", Source: "/src", Destination: "/dst"}},
		{in: "/src:/dst:Z,ro", want: spec.Mount{Type: "bind", Source: "/src", Destination: "/dst", ReadOnly: true}},
		{in: "/a/b/../c/:/x//y/.", want: spec.Mount{Type: "bind", Source: "/a/c", Destination: "/x/y"}},
		{in: "/:/host", want: spec.Mount{Type: "bind", Source: "/", Destination: "/host"}},
		{in: "/src:/", wantErr: `invalid volume "/src:/": destination cannot be /`},
		{in: "/src:/x/..", wantErr: "destination cannot be /"},
		{in: "/data", want: spec.Mount{Type: spec.MountVolume, Destination: "/data"}},
		{in: "/data/./x/", want: spec.Mount{Type: spec.MountVolume, Destination: "/data/x"}},
		{in: "data", wantErr: `invalid volume "data": destination is not an absolute path`},
		{in: "/", wantErr: "destination cannot be /"},
		{in: "/src:/dst:U", want: spec.Mount{Type: "bind", Source: "/src", Destination: "/dst", Chown: true}},
		{in: "/src:/dst:ro,U,z", want: spec.Mount{Type: "bind", Source: "/src", Destination: "/dst", ReadOnly: true, Chown: true}},
		{in: "/src:/dst:U,U", wantErr: "U given twice"},
		{in: "/a:/b:ro:x", wantErr: `invalid volume "/a:/b:ro:x": wrong number`},
		{in: ":/dst", wantErr: `invalid volume ":/dst": empty path`},
		{in: "/src:", wantErr: `invalid volume "/src:": empty path`},
		{in: "myvol:/data", want: spec.Mount{Type: spec.MountVolume, Volume: "myvol", Destination: "/data"}},
		{in: "my_vol.1-x:/data/:ro", want: spec.Mount{Type: spec.MountVolume, Volume: "my_vol.1-x", Destination: "/data", ReadOnly: true}},
		{in: "myvol:/data:U", wantErr: "U is for host directories"},
		{in: "./rel:/data", wantErr: "source is neither an absolute path nor a volume name"},
		{in: "-x:/data", wantErr: "source is neither an absolute path nor a volume name"},
		{in: "/src:data", wantErr: `invalid volume "/src:data": destination is not an absolute path`},
		{in: "/src:/dst:ro,rw", wantErr: `invalid volume "/src:/dst:ro,rw": ro and rw given twice`},
		{in: "/src:/dst:ro,ro", wantErr: "ro and rw given twice"},
		{in: "/src:/dst:nocopy", wantErr: `invalid volume "/src:/dst:nocopy": unknown option "nocopy"`},
		{in: "/src:/dst:", wantErr: `unknown option ""`},
		{in: "/src:/dst:RO", wantErr: `unknown option "RO"`},
	}
	for _, tt := range tests {
		got, err := ParseVolume(tt.in)
		if checkErr(t, "ParseVolume("+strconv.Quote(tt.in)+")", err, tt.wantErr) && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseVolume(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func FuzzParseVolume(f *testing.F) {
	for _, s := range []string{"/src:/dst", "/src:/dst:ro", "/a/../b:/c/./d:Z,rw", "vol:/x", "/a:b", "/a:/b:ro,rw"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		m, err := ParseVolume(v)
		if err != nil {
			if !strings.Contains(err.Error(), strconv.Quote(v)) {
				t.Fatalf("ParseVolume(%q) error %q does not name the value", v, err)
			}
			return
		}
		if m.Type == spec.MountVolume {
			if m.Source != "" || !isAbsClean(m.Destination) || m.Destination == "/" {
				t.Fatalf("ParseVolume(%q) = %+v: want an anonymous volume at an absolute, clean path", v, m)
			}
			return
		}
		if m.Type != "bind" || !isAbsClean(m.Source) || !isAbsClean(m.Destination) {
			t.Fatalf("ParseVolume(%q) = %+v: want a bind mount with absolute, clean paths", v, m)
		}
		// The canonical spelling of the result parses to the same mount.
		canon := m.Source + ":" + m.Destination
		if m.ReadOnly {
			canon += ":ro"
		}
		if m.Chown {
			canon += map[bool]string{true: ",U", false: ":U"}[m.ReadOnly]
		}
		again, err := ParseVolume(canon)
		if err != nil || !reflect.DeepEqual(again, m) {
			t.Fatalf("ParseVolume(%q) = %+v, %v; want %+v", canon, again, err, m)
		}
	})
}

func TestParseMount(t *testing.T) {
	tmpfsFlags := []string{"nosuid", "nodev"}
	tests := []struct {
		in      string
		want    spec.Mount
		wantErr string
	}{
		{in: "type=bind,source=/src,target=/dst",
			want: spec.Mount{Type: "bind", Source: "/src", Destination: "/dst"}},
		{in: "type=bind,src=/src/,dst=/dst/,readonly",
			want: spec.Mount{Type: "bind", Source: "/src", Destination: "/dst", ReadOnly: true}},
		{in: "TYPE=bind,Source=/src,Destination=/dst,ro=true",
			want: spec.Mount{Type: "bind", Source: "/src", Destination: "/dst", ReadOnly: true}},
		{in: "type=bind,source=/src,target=/dst,readonly=false,bind-propagation=rprivate,consistency=cached",
			want: spec.Mount{Type: "bind", Source: "/src", Destination: "/dst"}},
		{in: "type=tmpfs,target=/cache",
			want: spec.Mount{Type: "tmpfs", Destination: "/cache", Flags: tmpfsFlags}},
		{in: "type=tmpfs,target=/cache,tmpfs-size=64m,tmpfs-mode=1770",
			want: spec.Mount{Type: "tmpfs", Destination: "/cache", Flags: tmpfsFlags, Data: "size=67108864,mode=1770"}},
		{in: "type=tmpfs,dst=/cache,ro,tmpfs-mode=700",
			want: spec.Mount{Type: "tmpfs", Destination: "/cache", ReadOnly: true, Flags: tmpfsFlags, Data: "mode=700"}},
		{in: "type=bind,source=/src", wantErr: `invalid mount "type=bind,source=/src": no target`},
		{in: "type=bind,source=/src,target=dst", wantErr: "target is not an absolute path"},
		{in: "source=/src,target=/dst", wantErr: `invalid mount "source=/src,target=/dst": no type`},
		{in: "type=volume,source=v,target=/dst,ro", want: spec.Mount{Type: spec.MountVolume, Volume: "v", Destination: "/dst", ReadOnly: true}},
		{in: "type=volume,target=/dst", want: spec.Mount{Type: spec.MountVolume, Destination: "/dst"}},
		{in: "type=volume,source=a/b,target=/dst", wantErr: "volume source must be a volume name"},
		{in: "type=nfs,source=v,target=/dst", wantErr: `type "nfs" is not supported (bind, volume or tmpfs)`},
		{in: "type=bind,target=/dst", wantErr: "bind source must be an absolute path"},
		{in: "type=bind,source=rel,target=/dst", wantErr: "bind source must be an absolute path"},
		{in: "type=bind,source=/src,target=/dst,tmpfs-size=1m", wantErr: "tmpfs options on a bind mount"},
		{in: "type=tmpfs,source=/src,target=/dst", wantErr: "tmpfs takes no source"},
		{in: "type=bind,source=/src,target=/dst,readonly=maybe", wantErr: `readonly="maybe" is not true or false`},
		{in: "type=tmpfs,target=/dst,tmpfs-size=huge", wantErr: `invalid size "huge"`},
		{in: "type=tmpfs,target=/dst,tmpfs-mode=999", wantErr: `tmpfs-mode="999" is not an octal mode`},
		{in: "type=bind,source=/src,target=/dst,volume-nocopy", wantErr: `unknown key "volume-nocopy"`},
		{in: "type=bind,,source=/src,target=/dst", wantErr: `unknown key ""`},
		{in: "", wantErr: `invalid mount "": unknown key ""`},
	}
	for _, tt := range tests {
		got, err := ParseMount(tt.in)
		if checkErr(t, "ParseMount("+strconv.Quote(tt.in)+")", err, tt.wantErr) && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseMount(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func FuzzParseMount(f *testing.F) {
	for _, s := range []string{
		"type=bind,source=/src,target=/dst,readonly",
		"type=tmpfs,target=/cache,tmpfs-size=64m,tmpfs-mode=1770",
		"type=bind,src=a,dst=b,ro=maybe",
		"type=tmpfs,source=/x,target=/y",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		m, err := ParseMount(v)
		if err != nil {
			if !strings.Contains(err.Error(), strconv.Quote(v)) {
				t.Fatalf("ParseMount(%q) error %q does not name the value", v, err)
			}
			return
		}
		if !isAbsClean(m.Destination) {
			t.Fatalf("ParseMount(%q) = %+v: destination not absolute and clean", v, m)
		}
		switch m.Type {
		case "bind":
			if !isAbsClean(m.Source) || m.Data != "" || m.Flags != nil {
				t.Fatalf("ParseMount(%q) = %+v: bad bind mount", v, m)
			}
		case "tmpfs":
			if m.Source != "" || !reflect.DeepEqual(m.Flags, []string{"nosuid", "nodev"}) {
				t.Fatalf("ParseMount(%q) = %+v: bad tmpfs mount", v, m)
			}
			checkTmpfsData(t, v, m.Data)
		default:
			t.Fatalf("ParseMount(%q) = %+v: type not bind or tmpfs", v, m)
		}
	})
}

// checkTmpfsData asserts that the mount(2) data of a tmpfs holds only
// options the kernel's tmpfs takes, with values it accepts.
func checkTmpfsData(t *testing.T, in, data string) {
	t.Helper()
	if data == "" {
		return
	}
	for _, o := range strings.Split(data, ",") {
		k, v, ok := strings.Cut(o, "=")
		if !ok {
			t.Fatalf("%q: tmpfs data %q: option %q has no value", in, data, o)
		}
		var err error
		switch k {
		case "size":
			var n int64
			n, err = strconv.ParseInt(v, 10, 64)
			if err == nil && n < 0 {
				t.Fatalf("%q: tmpfs data %q: negative size", in, data)
			}
		case "mode":
			_, err = strconv.ParseUint(v, 8, 32) // the kernel reads mode in octal
		case "uid", "gid", "nr_inodes":
			_, err = strconv.ParseUint(v, 0, 32)
		default:
			t.Fatalf("%q: tmpfs data %q: unknown option %q", in, data, k)
		}
		if err != nil {
			t.Fatalf("%q: tmpfs data %q: option %q: %v", in, data, o, err)
		}
	}
}

func TestParseTmpfs(t *testing.T) {
	def := []string{"nosuid", "nodev", "noexec"}
	tests := []struct {
		in      string
		want    spec.Mount
		wantErr string
	}{
		{in: "/run", want: spec.Mount{Type: "tmpfs", Destination: "/run", Flags: def}},
		{in: "/run/", want: spec.Mount{Type: "tmpfs", Destination: "/run", Flags: def}},
		{in: "/run:", want: spec.Mount{Type: "tmpfs", Destination: "/run", Flags: def}},
		{in: "/run:size=64m,mode=1777",
			want: spec.Mount{Type: "tmpfs", Destination: "/run", Flags: def, Data: "size=67108864,mode=1777"}},
		{in: "/run:ro,exec,uid=1000,gid=0x3e8,nr_inodes=1000",
			want: spec.Mount{Type: "tmpfs", Destination: "/run", ReadOnly: true, Flags: []string{"nosuid", "nodev"}, Data: "uid=1000,gid=0x3e8,nr_inodes=1000"}},
		{in: "/run:ro,rw", want: spec.Mount{Type: "tmpfs", Destination: "/run", Flags: def}},
		{in: "/run:suid,dev,exec", want: spec.Mount{Type: "tmpfs", Destination: "/run"}},
		{in: "/run:exec,noexec", want: spec.Mount{Type: "tmpfs", Destination: "/run", Flags: def}},
		{in: "/run:mode=0755", want: spec.Mount{Type: "tmpfs", Destination: "/run", Flags: def, Data: "mode=0755"}},
		{in: "run", wantErr: `invalid tmpfs "run": "run" is not an absolute path`},
		{in: "", wantErr: `invalid tmpfs "": "" is not an absolute path`},
		{in: ":size=1m", wantErr: "is not an absolute path"},
		{in: "/run:size=lots", wantErr: `invalid tmpfs "/run:size=lots": invalid size "lots"`},
		{in: "/run:size=", wantErr: `invalid size ""`},
		{in: "/run:uid=me", wantErr: `invalid tmpfs "/run:uid=me": uid="me" is not a number`},
		{in: "/run:mode=-1", wantErr: `invalid tmpfs "/run:mode=-1": mode="-1" is not`},
		// The kernel reads mode in octal: a mode with 8 or 9 in it, or in
		// another base, must not get through to mount(2).
		{in: "/run:mode=1789", wantErr: `mode="1789" is not`},
		{in: "/run:mode=0x1ff", wantErr: `mode="0x1ff" is not`},
		{in: "/run:nosymfollow", wantErr: `invalid tmpfs "/run:nosymfollow": unknown option "nosymfollow"`},
		{in: "/run:size=1m,,mode=1777", wantErr: `unknown option ""`},
	}
	for _, tt := range tests {
		got, err := ParseTmpfs(tt.in)
		if checkErr(t, "ParseTmpfs("+strconv.Quote(tt.in)+")", err, tt.wantErr) && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseTmpfs(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func FuzzParseTmpfs(f *testing.F) {
	for _, s := range []string{"/run", "/run:size=64m,mode=1777", "/run:ro,exec,uid=1000,gid=0x3e8", "run:x", "/run:mode=1789"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		m, err := ParseTmpfs(v)
		if err != nil {
			if !strings.Contains(err.Error(), strconv.Quote(v)) {
				t.Fatalf("ParseTmpfs(%q) error %q does not name the value", v, err)
			}
			return
		}
		if m.Type != "tmpfs" || m.Source != "" || !isAbsClean(m.Destination) {
			t.Fatalf("ParseTmpfs(%q) = %+v", v, m)
		}
		for _, fl := range m.Flags {
			if fl != "nosuid" && fl != "nodev" && fl != "noexec" {
				t.Fatalf("ParseTmpfs(%q) = %+v: flag %q", v, m, fl)
			}
		}
		checkTmpfsData(t, v, m.Data)
	})
}

func TestParseBytes(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr string
	}{
		{in: "0", want: 0},
		{in: "1", want: 1},
		{in: "512b", want: 512},
		{in: "512B", want: 512},
		{in: "1k", want: 1024},
		{in: "1K", want: 1024},
		{in: "1kb", want: 1024},
		{in: "1KB", want: 1024},
		{in: "64m", want: 64 << 20},
		{in: "64mb", want: 64 << 20},
		{in: "2g", want: 2 << 30},
		{in: "2GB", want: 2 << 30},
		{in: "1.5k", want: 1536},
		{in: "0.5", want: 0},
		{in: ".5m", want: 512 << 10},
		{in: "  10m  ", want: 10 << 20},
		{in: "4294967296g", want: 1 << 62},
		{in: "4611686018427387904", want: 1 << 62},
		{in: "", wantErr: `invalid size "": want a number with an optional unit b, k, m or g`},
		{in: "b", wantErr: `invalid size "b"`},
		{in: "kb", wantErr: `invalid size "kb"`},
		{in: "-1", wantErr: `invalid size "-1"`},
		{in: "-0", wantErr: `invalid size "-0"`},
		{in: "+1", wantErr: `invalid size "+1"`},
		{in: "1e3", wantErr: `invalid size "1e3"`},
		{in: "0x10", wantErr: `invalid size "0x10"`},
		{in: "0x1p4", wantErr: `invalid size "0x1p4"`},
		{in: "1_000", wantErr: `invalid size "1_000"`},
		{in: "NaN", wantErr: `invalid size "NaN"`},
		{in: "inf", wantErr: `invalid size "inf"`},
		{in: "Infinity", wantErr: `invalid size "Infinity"`},
		{in: "1t", wantErr: `invalid size "1t"`},
		{in: "1kib", wantErr: `invalid size "1kib"`},
		{in: "1 k", wantErr: `invalid size "1 k"`},
		{in: "1bb", wantErr: `invalid size "1bb"`},
		{in: "1.2.3", wantErr: `invalid size "1.2.3"`},
		{in: "4294967297g", wantErr: `invalid size "4294967297g": too large`},
		{in: "4611686018427387905000", wantErr: "too large"},
		{in: strings.Repeat("9", 400), wantErr: "invalid size"},
	}
	for _, tt := range tests {
		got, err := ParseBytes(tt.in)
		if checkErr(t, "ParseBytes("+strconv.Quote(tt.in)+")", err, tt.wantErr) && got != tt.want {
			t.Errorf("ParseBytes(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func FuzzParseBytes(f *testing.F) {
	for _, s := range []string{"0", "512b", "1.5k", "64MB", "2g", "-1", "1e3", "NaN", "4294967297g", ".5m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseBytes(s)
		if err != nil {
			if n != 0 {
				t.Fatalf("ParseBytes(%q) = %d with error %v", s, n, err)
			}
			if !strings.Contains(err.Error(), strconv.Quote(s)) {
				t.Fatalf("ParseBytes(%q) error %q does not name the value", s, err)
			}
			return
		}
		if n < 0 || n > 1<<62 {
			t.Fatalf("ParseBytes(%q) = %d, out of [0, 2^62]", s, n)
		}
		// The result is a byte count: written in decimal it reads back as
		// itself, with or without the unit b.
		for _, again := range []string{strconv.FormatInt(n, 10), strconv.FormatInt(n, 10) + "b"} {
			if m, err := ParseBytes(again); err != nil || m != n {
				t.Fatalf("ParseBytes(%q) = %d, %v; want %d (from %q)", again, m, err, n, s)
			}
		}
		// A plain number of kibibytes is 1024 times as many bytes.
		if len(s) <= 15 && strings.Trim(s, "0123456789") == "" {
			if k, err := ParseBytes(s + "k"); err != nil || k != n<<10 {
				t.Fatalf("ParseBytes(%q) = %d, %v; want %d", s+"k", k, err, n<<10)
			}
		}
	})
}

func TestParseLabel(t *testing.T) {
	tests := []struct {
		in, wantKey, wantVal string
		wantErr              string
	}{
		{in: "a=b", wantKey: "a", wantVal: "b"},
		{in: "com.example.x=y=z", wantKey: "com.example.x", wantVal: "y=z"},
		{in: "flag", wantKey: "flag"},
		{in: "k=", wantKey: "k"},
		{in: "", wantErr: `invalid label "": want KEY=VALUE`},
		{in: "=v", wantErr: `invalid label "=v"`},
	}
	for _, tt := range tests {
		k, v, err := ParseLabel(tt.in)
		if checkErr(t, "ParseLabel("+strconv.Quote(tt.in)+")", err, tt.wantErr) && (k != tt.wantKey || v != tt.wantVal) {
			t.Errorf("ParseLabel(%q) = %q, %q; want %q, %q", tt.in, k, v, tt.wantKey, tt.wantVal)
		}
	}
}

func FuzzParseLabel(f *testing.F) {
	f.Add("a=b")
	f.Add("=v")
	f.Fuzz(func(t *testing.T, in string) {
		k, v, err := ParseLabel(in)
		if err != nil {
			return
		}
		if k == "" || strings.Contains(k, "=") {
			t.Fatalf("ParseLabel(%q) key %q", in, k)
		}
		if strings.Contains(in, "=") && k+"="+v != in || !strings.Contains(in, "=") && (k != in || v != "") {
			t.Fatalf("ParseLabel(%q) = %q, %q loses text", in, k, v)
		}
	})
}
