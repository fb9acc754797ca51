#!/bin/sh
# Run the rootless integration tests: as the test user (TEST_USER, default
# sbx) when invoked as root, else as the invoking user. The test binary is
# built here and run with a clean environment, as CI and a login would.
set -eu
cd "$(dirname "$0")/.."
TEST_USER=${TEST_USER:-sbx}
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
TAGS="exclude_graphdriver_btrfs exclude_graphdriver_devicemapper containers_image_openpgp"
mkdir -p bin
"$GO" test -c -tags "$TAGS" -o bin/integration.test ./test/integration
chmod 0755 bin/integration.test
args="-test.v=test2json -test.timeout=20m ${TEST_ARGS:-}"
if [ "$(id -u)" -eq 0 ]; then
	uid=$(id -u "$TEST_USER")
	home=$(getent passwd "$TEST_USER" | cut -d: -f6)
	# shellcheck disable=SC2086
	exec runuser -u "$TEST_USER" -- env -i HOME="$home" USER="$TEST_USER" XDG_RUNTIME_DIR="/run/user/$uid" \
		PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin SANDBOX_TEST_STRICT=1 SANDBOX_REPO="$PWD" \
		sh -c 'cd "$1/test/integration" && shift && exec "$@"' sh "$PWD" "$PWD/bin/integration.test" $args
fi
cd test/integration
# shellcheck disable=SC2086
SANDBOX_TEST_STRICT=1 exec ../../bin/integration.test $args
