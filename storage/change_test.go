// Unit tests (privilege tier: none) of import --change instructions.

package storage

import (
	"path"
	"reflect"
	"strings"
	"testing"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestApplyChanges(t *testing.T) {
	base := func() v1.ImageConfig {
		return v1.ImageConfig{Env: []string{"PATH=/bin", "A=old"}, Cmd: []string{"sh"}}
	}
	tests := []struct {
		name    string
		changes []string
		want    v1.ImageConfig
		wantErr string
	}{
		{name: "nothing", want: base()},
		{name: "CMD JSON form", changes: []string{`CMD ["nginx", "-g", "daemon off;"]`},
			want: v1.ImageConfig{Env: []string{"PATH=/bin", "A=old"}, Cmd: []string{"nginx", "-g", "daemon off;"}}},
		{name: "CMD empty JSON array", changes: []string{`CMD []`},
			want: v1.ImageConfig{Env: []string{"PATH=/bin", "A=old"}, Cmd: []string{}}},
		{name: "CMD shell form", changes: []string{`CMD echo "hi there" && sleep 1`},
			want: v1.ImageConfig{Env: []string{"PATH=/bin", "A=old"}, Cmd: []string{"/bin/sh", "-c", `echo "hi there" && sleep 1`}}},
		{name: "lower case instruction, extra blanks", changes: []string{"  cmd    top  "},
			want: v1.ImageConfig{Env: []string{"PATH=/bin", "A=old"}, Cmd: []string{"/bin/sh", "-c", "top"}}},
		{name: "ENTRYPOINT both forms, last wins", changes: []string{`ENTRYPOINT ["/init"]`, `Entrypoint /entry.sh`},
			want: v1.ImageConfig{Env: []string{"PATH=/bin", "A=old"}, Cmd: []string{"sh"}, Entrypoint: []string{"/bin/sh", "-c", "/entry.sh"}}},
		{name: "ENV KEY=VALUE pairs, replaced in place", changes: []string{`ENV B=2 A=new`},
			want: v1.ImageConfig{Env: []string{"PATH=/bin", "A=new", "B=2"}, Cmd: []string{"sh"}}},
		{name: "ENV quoted values", changes: []string{`ENV Q="hello world" S='it''s' E=a\ b D="say \"hi\"" X=`},
			want: v1.ImageConfig{Env: []string{"PATH=/bin", "A=old", "Q=hello world", "S=its", "E=a b", `D=say "hi"`, "X="}, Cmd: []string{"sh"}}},
		{name: "ENV legacy form", changes: []string{`ENV GREETING hello  big world`},
			want: v1.ImageConfig{Env: []string{"PATH=/bin", "A=old", "GREETING=hello  big world"}, Cmd: []string{"sh"}}},
		{name: "ENV legacy form with '=' in the value", changes: []string{`ENV OPTS -Dx=y`},
			want: v1.ImageConfig{Env: []string{"PATH=/bin", "A=old", "OPTS=-Dx=y"}, Cmd: []string{"sh"}}},
		{name: "ENV legacy form after a tab", changes: []string{"ENV GREETING\thello world"},
			want: v1.ImageConfig{Env: []string{"PATH=/bin", "A=old", "GREETING=hello world"}, Cmd: []string{"sh"}}},
		{name: "WORKDIR", changes: []string{"WORKDIR /srv/app/../www/"},
			want: v1.ImageConfig{Env: []string{"PATH=/bin", "A=old"}, Cmd: []string{"sh"}, WorkingDir: "/srv/www"}},
		{name: "USER", changes: []string{"USER 1000:1000"},
			want: v1.ImageConfig{Env: []string{"PATH=/bin", "A=old"}, Cmd: []string{"sh"}, User: "1000:1000"}},
		{name: "LABEL", changes: []string{`LABEL a=b "c d"="e f"`, "LABEL a=c"},
			want: v1.ImageConfig{Env: []string{"PATH=/bin", "A=old"}, Cmd: []string{"sh"}, Labels: map[string]string{"a": "c", "c d": "e f"}}},
		{name: "EXPOSE", changes: []string{"EXPOSE 80 443/udp", "EXPOSE 80/tcp"},
			want: v1.ImageConfig{Env: []string{"PATH=/bin", "A=old"}, Cmd: []string{"sh"}, ExposedPorts: map[string]struct{}{"80/tcp": {}, "443/udp": {}}}},
		{name: "VOLUME both forms", changes: []string{"VOLUME /data /logs", `VOLUME ["/cache", "/with space"]`},
			want: v1.ImageConfig{Env: []string{"PATH=/bin", "A=old"}, Cmd: []string{"sh"},
				Volumes: map[string]struct{}{"/data": {}, "/logs": {}, "/cache": {}, "/with space": {}}}},
		{name: "STOPSIGNAL", changes: []string{"STOPSIGNAL SIGQUIT"},
			want: v1.ImageConfig{Env: []string{"PATH=/bin", "A=old"}, Cmd: []string{"sh"}, StopSignal: "SIGQUIT"}},

		{name: "no value", changes: []string{"CMD"}, wantErr: `invalid --change "CMD": CMD needs a value`},
		{name: "blank value", changes: []string{"workdir   "}, wantErr: `invalid --change "workdir   ": WORKDIR needs a value`},
		{name: "empty change", changes: []string{""}, wantErr: `invalid --change "": `},
		{name: "CMD bad JSON", changes: []string{`CMD ["a", 1]`}, wantErr: `invalid --change "CMD [\"a\", 1]": not a JSON array of strings`},
		{name: "ENTRYPOINT unterminated JSON", changes: []string{`ENTRYPOINT ["a"`}, wantErr: "not a JSON array of strings"},
		{name: "ENV pair missing '='", changes: []string{"ENV A=1 B"}, wantErr: `invalid --change "ENV A=1 B": "B" is not KEY=VALUE`},
		{name: "ENV empty key", changes: []string{"ENV =x"}, wantErr: `"=x" is not KEY=VALUE`},
		{name: "ENV unterminated quote", changes: []string{`ENV A="x`}, wantErr: `invalid --change "ENV A=\"x": unterminated quote or escape`},
		{name: "ENV trailing backslash", changes: []string{`ENV A=x\`}, wantErr: "unterminated quote or escape"},
		{name: "LABEL without value", changes: []string{"LABEL a"}, wantErr: `invalid --change "LABEL a": "a" is not KEY=VALUE`},
		{name: "WORKDIR relative", changes: []string{"WORKDIR app"}, wantErr: `invalid --change "WORKDIR app": WORKDIR must be an absolute path`},
		{name: "USER with blanks", changes: []string{"USER a b"}, wantErr: `invalid --change "USER a b": USER takes one USER[:GROUP]`},
		{name: "VOLUME bad JSON", changes: []string{`VOLUME ["/a", 2]`}, wantErr: "not a JSON array of strings"},
		{name: "unknown instruction", changes: []string{"RUN apt-get update"},
			wantErr: `invalid --change "RUN apt-get update": unsupported instruction "RUN": want CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, VOLUME or STOPSIGNAL`},
		{name: "first bad change named", changes: []string{"USER x", "ONBUILD x", "FROM y"}, wantErr: `invalid --change "ONBUILD x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base()
			err := ApplyChanges(&cfg, tt.changes)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ApplyChanges(%q) error = %v, want one containing %q", tt.changes, err, tt.wantErr)
				}
				if cerr := CheckChanges(tt.changes); cerr == nil {
					t.Errorf("CheckChanges(%q) = nil, want an error", tt.changes)
				}
				return
			}
			if err != nil {
				t.Fatalf("ApplyChanges(%q): %v", tt.changes, err)
			}
			if !reflect.DeepEqual(cfg, tt.want) {
				t.Errorf("ApplyChanges(%q) =\n%+v\nwant\n%+v", tt.changes, cfg, tt.want)
			}
			if err := CheckChanges(tt.changes); err != nil {
				t.Errorf("CheckChanges(%q): %v", tt.changes, err)
			}
		})
	}
}

func FuzzApplyChanges(f *testing.F) {
	for _, s := range []string{
		`CMD ["a","b"]`, "CMD echo hi", `ENV A="x y" B=z`, "ENV A b c", "WORKDIR /a/../b",
		"USER u:g", `LABEL "a b"=c`, "EXPOSE 80 53/udp", `VOLUME ["/v"]`, "STOPSIGNAL 9", "RUN x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, change string) {
		var cfg v1.ImageConfig
		err := ApplyChanges(&cfg, []string{change})
		if err != nil {
			if !strings.Contains(err.Error(), "invalid --change") {
				t.Fatalf("error %q does not name the change", err)
			}
			return
		}
		if cfg.WorkingDir != "" && (!path.IsAbs(cfg.WorkingDir) || path.Clean(cfg.WorkingDir) != cfg.WorkingDir) {
			t.Fatalf("ApplyChanges(%q): WORKDIR %q", change, cfg.WorkingDir)
		}
		for _, kv := range cfg.Env {
			k, _, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				t.Fatalf("ApplyChanges(%q): env %q", change, kv)
			}
			// Only quotes or escapes put a blank into a key.
			if !strings.ContainsAny(change, `"'\`) && strings.ContainsAny(k, " \t") {
				t.Fatalf("ApplyChanges(%q): env key %q holds a blank", change, k)
			}
		}
		if strings.ContainsAny(cfg.User, " \t") {
			t.Fatalf("ApplyChanges(%q): user %q", change, cfg.User)
		}
		for p := range cfg.ExposedPorts {
			if !strings.Contains(p, "/") {
				t.Fatalf("ApplyChanges(%q): port %q without protocol", change, p)
			}
		}
	})
}

func TestSplitWords(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{in: "", want: nil},
		{in: "   \t ", want: nil},
		{in: "a", want: []string{"a"}},
		{in: " a  b\tc ", want: []string{"a", "b", "c"}},
		{in: `"a b" c`, want: []string{"a b", "c"}},
		{in: `'a b'c`, want: []string{"a bc"}},
		{in: `a"b c"d`, want: []string{"ab cd"}},
		{in: `""`, want: []string{""}},
		{in: `'' ""`, want: []string{"", ""}},
		{in: `a\ b`, want: []string{"a b"}},
		{in: `\"`, want: []string{`"`}},
		{in: `"a \" b"`, want: []string{`a " b`}},
		{in: `'a \ b'`, want: []string{`a \ b`}},
		{in: `"it's"`, want: []string{"it's"}},
		{in: `'say "x"'`, want: []string{`say "x"`}},
		{in: "é ü", want: []string{"é", "ü"}},
		{in: "a\nb", want: []string{"a\nb"}},
		{in: `"a`, wantErr: true},
		{in: `'a`, wantErr: true},
		{in: `a\`, wantErr: true},
		{in: `"a\"`, wantErr: true},
	}
	for _, tt := range tests {
		got, err := splitWords(tt.in)
		if tt.wantErr {
			if err == nil || !strings.Contains(err.Error(), "unterminated quote or escape") {
				t.Errorf("splitWords(%q) = %q, %v; want an unterminated quote error", tt.in, got, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitWords(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// quoteWord quotes w so that splitWords reads it back as one word.
func quoteWord(w string, single bool) string {
	if single && !strings.Contains(w, "'") {
		return "'" + w + "'"
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(w) + `"`
}

func FuzzSplitWords(f *testing.F) {
	f.Add("a b", `c"d`, `e\f`, false)
	f.Add("", " ", "'", true)
	f.Fuzz(func(t *testing.T, w1, w2, w3 string, single bool) {
		words := []string{w1, w2, w3}
		for _, w := range words {
			if strings.ToValidUTF8(w, "\uFFFD") != w {
				return // splitWords works on runes
			}
		}
		line := quoteWord(w1, single) + " \t" + quoteWord(w2, single) + " " + quoteWord(w3, !single)
		got, err := splitWords(line)
		if err != nil || !reflect.DeepEqual(got, words) {
			t.Fatalf("splitWords(%q) = %q, %v; want %q", line, got, err, words)
		}
		// And any input splits without panicking into words that hold
		// no unquoted blank.
		if ws, err := splitWords(w1); err == nil {
			for _, w := range ws {
				if !strings.ContainsAny(w1, `"'\`) && strings.ContainsAny(w, " \t") {
					t.Fatalf("splitWords(%q) = %q", w1, ws)
				}
			}
		}
	})
}
