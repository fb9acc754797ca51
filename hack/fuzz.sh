#!/bin/sh
# Usage: hack/fuzz.sh [DURATION]
#
# Run every fuzz target of the repository for DURATION each (default 5s; any
# -fuzztime value, such as 30s or 10000x), one after another, since go test
# fuzzes one target of one package at a time. The targets are those that
# `go test -list '^Fuzz'` names in each package whose test files define one.
# Stops at the first failure; go test then leaves the failing input under
# the package's testdata/fuzz/, from where plain `go test` replays it.
# Needs no privileges (unit tier).
set -eu
cd "$(dirname "$0")/.."

if [ $# -gt 1 ] || [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
	echo "usage: hack/fuzz.sh [DURATION]" >&2
	exit 2
fi
DURATION=${1:-5s}
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
TAGS="exclude_graphdriver_btrfs exclude_graphdriver_devicemapper exclude_graphdriver_zfs containers_image_openpgp"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# Packages with test files, then the targets of those whose test files
# define one (listing the others would compile their tests for nothing).
"$GO" list -tags "$TAGS" -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}} {{.Dir}}{{end}}' ./... >"$tmp/pkgs"
: >"$tmp/targets"
while read -r pkg dir; do
	[ -n "$pkg" ] || continue
	grep -qs '^func Fuzz' "$dir"/*_test.go || continue
	if ! "$GO" test -tags "$TAGS" -list '^Fuzz' "$pkg" >"$tmp/out" 2>&1 </dev/null; then
		cat "$tmp/out" >&2
		echo "fuzz: FAIL listing the fuzz targets of $pkg" >&2
		exit 1
	fi
	grep '^Fuzz' "$tmp/out" | sed "s|^\(.*\)$|$pkg \1 $dir|" >>"$tmp/targets" || true
done <"$tmp/pkgs"

total=$(wc -l <"$tmp/targets" | tr -d ' ')
if [ "$total" -eq 0 ]; then
	echo "fuzz: FAIL no fuzz targets found" >&2
	exit 1
fi
echo "fuzz: $total targets, $DURATION each"

# crashers DIR NAME: how many failing inputs go test has kept for NAME.
crashers() {
	if [ -d "$1/testdata/fuzz/$2" ]; then
		find "$1/testdata/fuzz/$2" -type f | wc -l | tr -d ' '
	else
		echo 0
	fi
}

n=0
while read -r pkg name dir; do
	n=$((n + 1))
	printf 'fuzz: [%d/%d] %s %s ... ' "$n" "$total" "$pkg" "$name"
	tries=0
	while :; do
		tries=$((tries + 1))
		before=$(crashers "$dir" "$name")
		if "$GO" test -tags "$TAGS" -run '^$' -fuzz "^$name\$" -fuzztime "$DURATION" "$pkg" >"$tmp/out" 2>&1 </dev/null; then
			break
		fi
		# Go before 1.27 can fail a target with a bare "context deadline
		# exceeded" as -fuzztime runs out, writing no failing input
		# (go.dev/issue/75804): that is the toolchain's race, so run the
		# target again; anything else is a failure.
		if [ "$tries" -lt 3 ] && [ "$(crashers "$dir" "$name")" = "$before" ] &&
			grep -q '^    context deadline exceeded$' "$tmp/out"; then
			printf '(go.dev/issue/75804, again) '
			continue
		fi
		echo "FAIL"
		cat "$tmp/out"
		echo "fuzz: FAIL $name in $pkg (a failing input is kept under $dir/testdata/fuzz/$name/)" >&2
		exit 1
	done
	# The last progress line says how many inputs were tried.
	execs=$(grep -o 'execs: [0-9]*' "$tmp/out" | tail -n 1 | cut -d' ' -f2)
	echo "ok (${execs:-?} execs)"
done <"$tmp/targets"
echo "fuzz: all $total targets passed"
