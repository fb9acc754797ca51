#!/bin/sh
# Run the rootless integration tests: as the test user (TEST_USER, default
# sbx) when invoked as root, else as the invoking user. As root, the
# single-id mapping test then runs as a second user without subordinate ids
# (NOSUB_USER, default sbxnosub). The test binary is built here and run with
# a clean environment, as CI and a login would.
set -eu
cd "$(dirname "$0")/.."
TEST_USER=${TEST_USER:-sbx}
NOSUB_USER=${NOSUB_USER:-sbxnosub}
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
TAGS="exclude_graphdriver_btrfs exclude_graphdriver_devicemapper containers_image_openpgp"
mkdir -p bin
"$GO" test -c -tags "$TAGS" -o bin/integration.test ./test/integration
# A static helper that tests bind into busybox containers.
CGO_ENABLED=0 "$GO" build -o bin/testhelper ./test/helper
chmod 0755 bin/integration.test bin/testhelper
args="-test.v=test2json -test.timeout=20m"

# as_user USER ARGS...: run the test binary as USER in a login-like environment.
as_user() {
	user=$1
	shift
	uid=$(id -u "$user")
	home=$(getent passwd "$user" | cut -d: -f6)
	runuser -u "$user" -- env -i HOME="$home" USER="$user" XDG_RUNTIME_DIR="/run/user/$uid" \
		PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin SANDBOX_TEST_STRICT=1 SANDBOX_REPO="$PWD" \
		sh -c 'cd "$1/test/integration" && shift && exec "$@"' sh "$PWD" "$PWD/bin/integration.test" "$@"
}

if [ "$(id -u)" -eq 0 ]; then
	if [ -n "${TEST_ARGS:-}" ]; then
		# shellcheck disable=SC2086
		as_user "$TEST_USER" $args $TEST_ARGS
		exit
	fi
	# shellcheck disable=SC2086
	as_user "$TEST_USER" $args -test.skip '^TestSingleID$'
	# shellcheck disable=SC2086
	as_user "$NOSUB_USER" $args -test.run '^TestSingleID$'
	exit
fi
cd test/integration
# shellcheck disable=SC2086
SANDBOX_TEST_STRICT=1 exec ../../bin/integration.test $args ${TEST_ARGS:--test.skip ^TestSingleID$}
