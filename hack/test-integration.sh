#!/bin/sh
# Run the rootless integration tests: as the test user (TEST_USER, default
# sbx) when invoked as root, else as the invoking user. As root, the
# single-id mapping test then runs as a second user without subordinate ids
# (NOSUB_USER, default sbxnosub). The network conformance suite
# (network/conformance) runs first, as the same user, with the same
# TEST_ARGS. The test binaries are built and staged with sandbox's binaries
# by hack/stage-tests.sh into /var/tmp/sandbox-test.XXXXXX (SANDBOX_TEST_STAGE
# names another parent directory), removed at the end, and run from there
# with a clean environment, as CI and a login would (SANDBOX_SOAK_OPS and
# SANDBOX_SCALE_N pass through: make soak sets the first).
set -eu
cd "$(dirname "$0")/.."
TEST_USER=${TEST_USER:-sbx}
NOSUB_USER=${NOSUB_USER:-sbxnosub}
# The tests run from a staged copy (hack/stage-tests.sh) in a directory
# every user can reach, so any checkout works, even one the test user
# cannot read (/root/...). It is removed when the tests end.
stage=$(mktemp -d "${SANDBOX_TEST_STAGE:-/var/tmp}/sandbox-test.XXXXXX")
trap 'rm -rf "$stage"' EXIT
trap 'exit 130' INT TERM
chmod 0755 "$stage"
hack/stage-tests.sh "$stage"
args="-test.v=test2json -test.timeout=20m"

# logged CMD...: run CMD with its output kept in the stage too; when it
# fails, end with the failing tests and their first messages
# (hack/test-summary.sh), so that the tail of a CI log names them.
logged() {
	{
		rc=0
		"$@" || rc=$?
		echo "$rc" >"$stage/rc"
	} 2>&1 | tee "$stage/test.log"
	rc=$(cat "$stage/rc")
	if [ "$rc" -ne 0 ]; then
		hack/test-summary.sh "$stage/test.log" >&2
	fi
	return "$rc"
}

# as_user USER ARGS...: run the test binary as USER in a login-like environment.
as_user() {
	as_user_bin integration "$@"
}

# as_user_bin NAME USER ARGS...: run the staged NAME.test as USER, likewise,
# in its package's directory of the stage.
as_user_bin() {
	bin=$1
	user=$2
	shift 2
	uid=$(id -u "$user")
	home=$(getent passwd "$user" | cut -d: -f6)
	runuser -u "$user" -- env -i HOME="$home" USER="$user" XDG_RUNTIME_DIR="/run/user/$uid" \
		PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin SANDBOX_TEST_STRICT=1 SANDBOX_REPO="$stage" \
		SANDBOX_SOAK_OPS="${SANDBOX_SOAK_OPS:-}" SANDBOX_SCALE_N="${SANDBOX_SCALE_N:-}" \
		sh -c 'cd "$1" && shift && exec "$@"' sh "$stage/$(pkgdir "$bin")" "$stage/bin/$bin.test" "$@"
}

# pkgdir NAME: the package directory of test binary NAME.
pkgdir() {
	case $1 in
	conformance) echo network/conformance ;;
	*) echo test/integration ;;
	esac
}

# here_bin NAME ARGS...: run the staged NAME.test as the invoking user.
here_bin() {
	bin=$1
	shift
	(cd "$stage/$(pkgdir "$bin")" && SANDBOX_TEST_STRICT=1 SANDBOX_REPO="$stage" "$stage/bin/$bin.test" "$@")
}

# skip_here prints the tests that do not apply as USER here, and why, as a
# -test.skip pattern: TestSingleID (a user without subordinate ids runs it),
# and by whether cgroup v2 is delegated to USER here (the test binary's
# probe, which asks the code sandbox itself uses) either the tests of limits
# that hold (^TestCgroup: make test-vm runs them) or of their refusal.
skip_here() {
	if [ "$(id -u)" -eq 0 ]; then
		cgroup=$(as_user "$1" -sandbox.probe=cgroup)
	else
		cgroup=$(here_bin integration -sandbox.probe=cgroup)
	fi
	case $cgroup in
	delegated)
		echo "test-integration: not run here: TestLimitsRefused (cgroup v2 is delegated to $1: the limits apply), TestCgroupSystemdScope (make test-vm's systemd pass), TestSingleID (as $NOSUB_USER)" >&2
		echo '^TestSingleID$|^TestLimitsRefused$|^TestCgroupSystemdScope$'
		;;
	none)
		echo "test-integration: not run here: ^TestCgroup (no delegated cgroup v2 for $1 here: make test-vm runs them; TestLimitsRefused checks the refusal), TestSingleID (as $NOSUB_USER)" >&2
		echo '^TestSingleID$|^TestCgroup'
		;;
	*)
		echo "test-integration: the cgroup probe failed: $cgroup" >&2
		return 1
		;;
	esac
}

if [ "$(id -u)" -eq 0 ]; then
	# shellcheck disable=SC2086
	logged as_user_bin conformance "$TEST_USER" $args ${TEST_ARGS:-}
	if [ -n "${TEST_ARGS:-}" ]; then
		# shellcheck disable=SC2086
		logged as_user "$TEST_USER" $args $TEST_ARGS
		exit
	fi
	skip=$(skip_here "$TEST_USER")
	# shellcheck disable=SC2086
	logged as_user "$TEST_USER" $args -test.skip "$skip"
	# shellcheck disable=SC2086
	logged as_user "$NOSUB_USER" $args -test.run '^TestSingleID$'
	exit
fi
# shellcheck disable=SC2086
logged here_bin conformance $args ${TEST_ARGS:-}
if [ -n "${TEST_ARGS:-}" ]; then
	# shellcheck disable=SC2086
	logged here_bin integration $args $TEST_ARGS
	exit
fi
skip=$(skip_here "$(id -un)")
# shellcheck disable=SC2086
logged here_bin integration $args -test.skip "$skip"
