#!/bin/sh
# Run the rootless integration tests: as the test user (TEST_USER, default
# sbx) when invoked as root, else as the invoking user. As root, the
# single-id mapping test then runs as a second user without subordinate ids
# (NOSUB_USER, default sbxnosub). The network conformance suite
# (network/conformance) runs first, as the same user, with the same
# TEST_ARGS. The test binaries are built here and run with a clean
# environment, as CI and a login would.
set -eu
cd "$(dirname "$0")/.."
TEST_USER=${TEST_USER:-sbx}
NOSUB_USER=${NOSUB_USER:-sbxnosub}
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
TAGS="exclude_graphdriver_btrfs exclude_graphdriver_devicemapper containers_image_openpgp"
mkdir -p bin
"$GO" test -c -tags "$TAGS" -o bin/integration.test ./test/integration
"$GO" test -c -tags "$TAGS" -o bin/conformance.test ./network/conformance
# testcontainers-go's test of the Docker API service: a module of its own
# (test/testcontainers), run by TestAPITestcontainers.
(cd test/testcontainers && "$GO" test -c -o ../../bin/testcontainers.test .)
# A static helper that tests bind into busybox containers.
CGO_ENABLED=0 "$GO" build -o bin/testhelper ./test/helper
chmod 0755 bin/integration.test bin/conformance.test bin/testhelper bin/testcontainers.test
args="-test.v=test2json -test.timeout=20m"

# as_user USER ARGS...: run the test binary as USER in a login-like environment.
as_user() {
	as_user_bin integration "$@"
}

# as_user_bin NAME USER ARGS...: run bin/NAME.test as USER, likewise.
as_user_bin() {
	bin=$1
	user=$2
	shift 2
	uid=$(id -u "$user")
	home=$(getent passwd "$user" | cut -d: -f6)
	runuser -u "$user" -- env -i HOME="$home" USER="$user" XDG_RUNTIME_DIR="/run/user/$uid" \
		PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin SANDBOX_TEST_STRICT=1 SANDBOX_REPO="$PWD" \
		sh -c 'cd "$1/test/integration" && shift && exec "$@"' sh "$PWD" "$PWD/bin/$bin.test" "$@"
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
		cgroup=$(bin/integration.test -sandbox.probe=cgroup)
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
	as_user_bin conformance "$TEST_USER" $args ${TEST_ARGS:-}
	if [ -n "${TEST_ARGS:-}" ]; then
		# shellcheck disable=SC2086
		as_user "$TEST_USER" $args $TEST_ARGS
		exit
	fi
	skip=$(skip_here "$TEST_USER")
	# shellcheck disable=SC2086
	as_user "$TEST_USER" $args -test.skip "$skip"
	# shellcheck disable=SC2086
	as_user "$NOSUB_USER" $args -test.run '^TestSingleID$'
	exit
fi
# shellcheck disable=SC2086
SANDBOX_TEST_STRICT=1 bin/conformance.test $args ${TEST_ARGS:-}
if [ -n "${TEST_ARGS:-}" ]; then
	cd test/integration
	# shellcheck disable=SC2086
	SANDBOX_TEST_STRICT=1 exec ../../bin/integration.test $args $TEST_ARGS
fi
skip=$(skip_here "$(id -un)")
cd test/integration
# shellcheck disable=SC2086
SANDBOX_TEST_STRICT=1 exec ../../bin/integration.test $args -test.skip "$skip"
