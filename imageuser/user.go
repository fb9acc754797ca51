package imageuser

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// PasswdEntry is one line of /etc/passwd.
type PasswdEntry struct {
	Name string
	UID  uint32
	GID  uint32
	Home string
}

// GroupEntry is one line of /etc/group.
type GroupEntry struct {
	Name    string
	GID     uint32
	Members []string
}

// ParsePasswd parses /etc/passwd; lines that do not parse are skipped, as
// libc does.
func ParsePasswd(data []byte) []PasswdEntry {
	var out []PasswdEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Split(sc.Text(), ":")
		if len(f) < 7 || strings.HasPrefix(f[0], "#") {
			continue
		}
		uid, err1 := strconv.ParseUint(f[2], 10, 32)
		gid, err2 := strconv.ParseUint(f[3], 10, 32)
		if err1 != nil || err2 != nil || f[0] == "" {
			continue
		}
		out = append(out, PasswdEntry{Name: f[0], UID: uint32(uid), GID: uint32(gid), Home: f[5]})
	}
	return out
}

// ParseGroup parses /etc/group, skipping lines that do not parse.
func ParseGroup(data []byte) []GroupEntry {
	var out []GroupEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Split(sc.Text(), ":")
		if len(f) < 4 || strings.HasPrefix(f[0], "#") {
			continue
		}
		gid, err := strconv.ParseUint(f[2], 10, 32)
		if err != nil || f[0] == "" {
			continue
		}
		var members []string
		for _, m := range strings.Split(f[3], ",") {
			if m = strings.TrimSpace(m); m != "" {
				members = append(members, m)
			}
		}
		out = append(out, GroupEntry{Name: f[0], GID: uint32(gid), Members: members})
	}
	return out
}

// User is who the container's command runs as.
type User struct {
	UID, GID       uint32
	AdditionalGIDs []uint32
	Home           string
}

// ResolveUser resolves a -u/USER value (USER, UID, USER:GROUP, UID:GID, with
// names looked up in the container's passwd and group files) as docker
// does: a numeric uid not in passwd runs with gid 0 and home /; a name that
// is not there is an error; supplementary groups are those of the group
// file that list the user, unless a group was given explicitly.
func ResolveUser(v string, passwd []PasswdEntry, groups []GroupEntry) (User, error) {
	userPart, groupPart, hasGroup := strings.Cut(v, ":")
	if hasGroup && groupPart == "" {
		return User{}, fmt.Errorf("invalid user %q: empty group; want USER[:GROUP] or UID[:GID]", v)
	}
	u := User{Home: "/"}
	var name string
	if userPart == "" {
		userPart = "0"
	}
	if n, err := strconv.ParseUint(userPart, 10, 32); err == nil {
		u.UID = uint32(n)
		for _, p := range passwd {
			if p.UID == u.UID {
				u.GID, u.Home, name = p.GID, p.Home, p.Name
				break
			}
		}
	} else {
		if strings.ContainsAny(userPart, " \t\n") {
			return User{}, fmt.Errorf("invalid user %q: want USER[:GROUP] or UID[:GID]", v)
		}
		found := false
		for _, p := range passwd {
			if p.Name == userPart {
				u.UID, u.GID, u.Home, name = p.UID, p.GID, p.Home, p.Name
				found = true
				break
			}
		}
		if !found {
			return User{}, fmt.Errorf("unable to find user %s: no matching entries in the container's /etc/passwd", userPart)
		}
	}
	if hasGroup {
		if n, err := strconv.ParseUint(groupPart, 10, 32); err == nil {
			u.GID = uint32(n)
		} else {
			found := false
			for _, g := range groups {
				if g.Name == groupPart {
					u.GID = g.GID
					found = true
					break
				}
			}
			if !found {
				return User{}, fmt.Errorf("unable to find group %s: no matching entries in the container's /etc/group", groupPart)
			}
		}
	}
	// As docker does, the primary group is also a supplementary one; the
	// group file adds the user's other groups unless a group was given.
	u.AdditionalGIDs = []uint32{u.GID}
	if name != "" && !hasGroup {
		for _, g := range groups {
			if g.GID == u.GID {
				continue
			}
			for _, m := range g.Members {
				if m == name {
					u.AdditionalGIDs = append(u.AdditionalGIDs, g.GID)
					break
				}
			}
		}
	}
	return u, nil
}
