// Unit tests (privilege tier: none) of the container's passwd and group
// parsers and of -u/USER resolution.

package imageuser

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

const testPasswd = `root:x:0:0:root:/root:/bin/sh
# a comment:x:1:1::/:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
broken line
short:x:5:5:/home/short
badid:x:notanumber:5::/home/badid:/bin/sh
:x:6:6::/home/noname:/bin/sh
alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash
bob:x:1001:100::/home/bob:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
`

const testGroup = `root:x:0:
daemon:x:1:
users:x:100:alice,bob
wheel:x:10:alice, bob ,
alice:x:1000:
audio:x:29:bob,carol
video:x:44:alice
# comment:x:5:alice
badgid:x:abc:alice
short:x:7
`

func TestParsePasswd(t *testing.T) {
	want := []PasswdEntry{
		{Name: "root", UID: 0, GID: 0, Home: "/root"},
		{Name: "daemon", UID: 1, GID: 1, Home: "/usr/sbin"},
		{Name: "alice", UID: 1000, GID: 1000, Home: "/home/alice"},
		{Name: "bob", UID: 1001, GID: 100, Home: "/home/bob"},
		{Name: "nobody", UID: 65534, GID: 65534, Home: "/nonexistent"},
	}
	if got := ParsePasswd([]byte(testPasswd)); !reflect.DeepEqual(got, want) {
		t.Errorf("ParsePasswd() = %+v\nwant %+v", got, want)
	}
	for _, data := range []string{"", "\n\n", "x:x:4294967296:0::/:/bin/sh", "x:x:0:-1::/:/bin/sh"} {
		if got := ParsePasswd([]byte(data)); len(got) != 0 {
			t.Errorf("ParsePasswd(%q) = %+v, want nothing", data, got)
		}
	}
	// No trailing newline, extra fields (as some systems write) and the
	// largest id are fine.
	got := ParsePasswd([]byte("big:x:4294967295:4294967295::/big:/bin/sh:extra"))
	if want := []PasswdEntry{{Name: "big", UID: 4294967295, GID: 4294967295, Home: "/big"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("ParsePasswd() = %+v, want %+v", got, want)
	}
}

func TestParseGroup(t *testing.T) {
	want := []GroupEntry{
		{Name: "root", GID: 0},
		{Name: "daemon", GID: 1},
		{Name: "users", GID: 100, Members: []string{"alice", "bob"}},
		{Name: "wheel", GID: 10, Members: []string{"alice", "bob"}},
		{Name: "alice", GID: 1000},
		{Name: "audio", GID: 29, Members: []string{"bob", "carol"}},
		{Name: "video", GID: 44, Members: []string{"alice"}},
	}
	if got := ParseGroup([]byte(testGroup)); !reflect.DeepEqual(got, want) {
		t.Errorf("ParseGroup() = %+v\nwant %+v", got, want)
	}
	for _, data := range []string{"", "g:x:4294967296:", ":x:5:a"} {
		if got := ParseGroup([]byte(data)); len(got) != 0 {
			t.Errorf("ParseGroup(%q) = %+v, want nothing", data, got)
		}
	}
}

func TestResolveUser(t *testing.T) {
	passwd := ParsePasswd([]byte(testPasswd))
	groups := ParseGroup([]byte(testGroup))
	tests := []struct {
		name    string
		in      string
		want    User
		wantErr string
	}{
		{name: "empty is root", in: "",
			want: User{UID: 0, GID: 0, Home: "/root", AdditionalGIDs: []uint32{0}}},
		{name: "root by name", in: "root",
			want: User{UID: 0, GID: 0, Home: "/root", AdditionalGIDs: []uint32{0}}},
		{name: "numeric uid in passwd", in: "1000",
			want: User{UID: 1000, GID: 1000, Home: "/home/alice", AdditionalGIDs: []uint32{1000, 100, 10, 44}}},
		{name: "numeric uid not in passwd", in: "4242",
			want: User{UID: 4242, GID: 0, Home: "/", AdditionalGIDs: []uint32{0}}},
		{name: "name", in: "alice",
			want: User{UID: 1000, GID: 1000, Home: "/home/alice", AdditionalGIDs: []uint32{1000, 100, 10, 44}}},
		// bob's primary group lists him too: it is not given twice.
		{name: "primary group not repeated", in: "bob",
			want: User{UID: 1001, GID: 100, Home: "/home/bob", AdditionalGIDs: []uint32{100, 10, 29}}},
		{name: "user in no group", in: "daemon",
			want: User{UID: 1, GID: 1, Home: "/usr/sbin", AdditionalGIDs: []uint32{1}}},
		{name: "uid:gid", in: "1000:29",
			want: User{UID: 1000, GID: 29, Home: "/home/alice", AdditionalGIDs: []uint32{29}}},
		{name: "unknown uid:gid", in: "4242:4243",
			want: User{UID: 4242, GID: 4243, Home: "/", AdditionalGIDs: []uint32{4243}}},
		{name: "name:group", in: "alice:audio",
			want: User{UID: 1000, GID: 29, Home: "/home/alice", AdditionalGIDs: []uint32{29}}},
		{name: "name:gid", in: "bob:0",
			want: User{UID: 1001, GID: 0, Home: "/home/bob", AdditionalGIDs: []uint32{0}}},
		{name: "uid:group", in: "4242:video",
			want: User{UID: 4242, GID: 44, Home: "/", AdditionalGIDs: []uint32{44}}},
		{name: "empty user with group", in: ":users",
			want: User{UID: 0, GID: 100, Home: "/root", AdditionalGIDs: []uint32{100}}},
		{name: "largest uid", in: "4294967295",
			want: User{UID: 4294967295, Home: "/", AdditionalGIDs: []uint32{0}}},
		{name: "unknown user", in: "mallory",
			wantErr: "unable to find user mallory: no matching entries in the container's /etc/passwd"},
		{name: "uid too large is a name", in: "4294967296",
			wantErr: "unable to find user 4294967296"},
		{name: "negative uid is a name", in: "-1",
			wantErr: "unable to find user -1"},
		{name: "unknown user with group", in: "mallory:users",
			wantErr: "unable to find user mallory"},
		{name: "unknown group", in: "alice:staff",
			wantErr: "unable to find group staff: no matching entries in the container's /etc/group"},
		{name: "empty group", in: "alice:",
			wantErr: `invalid user "alice:": empty group`},
		{name: "blank in name", in: "al ice",
			wantErr: `invalid user "al ice": want USER[:GROUP] or UID[:GID]`},
		{name: "three parts", in: "alice:users:x",
			wantErr: "unable to find group users:x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ResolveUser(tt.in, passwd, groups)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("ResolveUser(%q): %v", tt.in, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("ResolveUser(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
			case tt.wantErr == "" && !reflect.DeepEqual(got, tt.want):
				t.Errorf("ResolveUser(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestResolveUserNoFiles(t *testing.T) {
	// An image without /etc/passwd: numeric ids work, names do not.
	got, err := ResolveUser("", nil, nil)
	if want := (User{Home: "/", AdditionalGIDs: []uint32{0}}); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf(`ResolveUser("") = %+v, %v; want %+v`, got, err, want)
	}
	got, err = ResolveUser("1000:1000", nil, nil)
	if want := (User{UID: 1000, GID: 1000, Home: "/", AdditionalGIDs: []uint32{1000}}); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf(`ResolveUser("1000:1000") = %+v, %v; want %+v`, got, err, want)
	}
	if _, err := ResolveUser("root", nil, nil); err == nil || !strings.Contains(err.Error(), "unable to find user root") {
		t.Errorf(`ResolveUser("root") error = %v`, err)
	}
}

func FuzzResolveUser(f *testing.F) {
	f.Add("alice", []byte(testPasswd), []byte(testGroup))
	f.Add("1000:audio", []byte(testPasswd), []byte(testGroup))
	f.Add("4242", []byte(""), []byte(""))
	f.Add("x:", []byte("x:x:1:2::/:\n"), []byte("g:x:3:x\n"))
	f.Fuzz(func(t *testing.T, v string, passwdData, groupData []byte) {
		passwd, groups := ParsePasswd(passwdData), ParseGroup(groupData)
		for _, p := range passwd {
			if p.Name == "" || strings.HasPrefix(p.Name, "#") || strings.Contains(p.Name, "\n") {
				t.Fatalf("ParsePasswd(%q) gave entry %+v", passwdData, p)
			}
		}
		for _, g := range groups {
			if g.Name == "" || strings.HasPrefix(g.Name, "#") {
				t.Fatalf("ParseGroup(%q) gave entry %+v", groupData, g)
			}
			for _, m := range g.Members {
				if m == "" || m != strings.TrimSpace(m) || strings.Contains(m, ",") {
					t.Fatalf("ParseGroup(%q) gave member %q", groupData, m)
				}
			}
		}
		u, err := ResolveUser(v, passwd, groups)
		if err != nil {
			return
		}
		userPart, groupPart, hasGroup := strings.Cut(v, ":")
		if n, err := strconv.ParseUint(userPart, 10, 32); err == nil && uint32(n) != u.UID {
			t.Fatalf("ResolveUser(%q) = %+v: uid differs from the one given", v, u)
		}
		if hasGroup {
			if n, err := strconv.ParseUint(groupPart, 10, 32); err == nil && uint32(n) != u.GID {
				t.Fatalf("ResolveUser(%q) = %+v: gid differs from the one given", v, u)
			}
			// An explicit group leaves the group file out.
			if len(u.AdditionalGIDs) != 1 {
				t.Fatalf("ResolveUser(%q) = %+v: supplementary groups from the group file with an explicit group", v, u)
			}
		}
		// As docker does, the primary group is the first supplementary one.
		if len(u.AdditionalGIDs) == 0 || u.AdditionalGIDs[0] != u.GID {
			t.Fatalf("ResolveUser(%q) = %+v: the primary group is not the first supplementary one", v, u)
		}
	})
}
