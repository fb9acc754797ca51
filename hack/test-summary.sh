#!/bin/sh
# test-summary.sh LOG: the tests that failed in LOG (the -test.v output of a
# test binary), each with its first messages, in at most 20 lines, so that
# the tail of a long CI log names them. Prints nothing when none failed.
set -eu
awk '
	{ sub(/^\026/, "") }
	/^=== (RUN|CONT|NAME|PAUSE)/ { cur = $3; next }
	/^ *--- FAIL: / {
		name = $3
		if (!(name in seen)) { seen[name] = 1; order[n++] = name }
		next
	}
	/^ +[A-Za-z0-9_]+\.go:[0-9]+: / && cur != "" {
		if (msgs[cur] < 2) {
			line = $0; sub(/^ +/, "", line)
			text[cur] = text[cur] "\n    " substr(line, 1, 200)
			msgs[cur]++
		}
	}
	/^panic: / && !panicked { panicked = $0 }
	END {
		if (n == 0 && !panicked) exit
		out = 0
		print "failed tests:"
		if (panicked) { print "  " substr(panicked, 1, 200); out++ }
		# the innermost failures first: a parent fails with its subtests
		for (i = 0; i < n && out < 18; i++) {
			name = order[i]
			if (name in text) { printf "  %s%s\n", name, text[name]; out += 1 + msgs[name] }
		}
		for (i = 0; i < n && out < 18; i++) {
			name = order[i]
			if (!(name in text)) { printf "  %s\n", name; out++ }
		}
	}
' "$1"
