#!/usr/bin/env bash
# A private S3-compatible service for one test run, on 127.0.0.1 only: s3rver behind a proxy
# (tests/services/s3/server.js) that verifies every request's AWS Signature Version 4 and can
# inject faults (POST $TEST_S3_ENDPOINT/__control/faults; see server.js).
#
#   eval "$(tests/services/s3.sh start [--owner PID])"   starts it and prints exports:
#       TEST_S3_DIR TEST_S3_ENDPOINT TEST_S3_BUCKET AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
#       AWS_DEFAULT_REGION AWS_EC2_METADATA_DISABLED
#   tests/services/s3.sh stop DIR                        stops it and removes DIR
#
# The key pair is made up per start; only that pair is accepted. Data, spool files and the
# request log (DIR/server.log) live in the temp dir. A watchdog stops the service and removes
# the directory when the owner process (default: the caller's parent) exits, so a crashed or
# killed test run leaves nothing behind.
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/lib.sh"

HERE=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
APP=$HERE/s3
BUCKET=${TEST_S3_BUCKET:-platctl-test}

start_service() {
	parse_owner s3.sh "$@"
	local owner=$OWNER

	command -v node >/dev/null || { echo "s3.sh: node is not installed; run make deps" >&2; exit 1; }
	if [ ! -d "$APP/node_modules/s3rver" ] || [ ! -d "$APP/node_modules/@smithy/signature-v4" ]; then
		echo "s3.sh: $APP/node_modules is missing; run make deps" >&2
		exit 1
	fi

	local dir
	dir=$(mktemp -d /tmp/platctl-s3.XXXXXX)
	trap 'stop_service "$dir"' ERR

	local access secret
	access=PLATCTLTEST$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n' | tr a-f A-F)
	secret=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')

	# The server picks a free port itself and writes it to DIR/port once it listens.
	S3_TEST_ACCESS_KEY=$access S3_TEST_SECRET_KEY=$secret S3_TEST_BUCKETS=$BUCKET \
		S3_TEST_PORT=0 S3_TEST_PORT_FILE="$dir/port" S3_TEST_LOG="$dir/server.log" \
		setsid node "$APP/server.js" "$dir/data" </dev/null >/dev/null 2>>"$dir/server.log" 3>&- &
	echo $! >"$dir/server.pid"

	local port='' up=0
	# Up to 60 s: node starts slowly on a loaded machine (a CI runner, parallel builds).
	for _ in $(seq 1 600); do
		if [ -z "$port" ] && [ -s "$dir/port" ]; then
			port=$(cat "$dir/port")
		fi
		if [ -n "$port" ] && health_answers "$port"; then
			up=1
			break
		fi
		kill -0 "$(cat "$dir/server.pid")" 2>/dev/null || break
		sleep 0.1
	done
	if [ "$up" -ne 1 ]; then
		start_failed "s3.sh: the S3 test service" "$dir"
	fi

	start_watchdog "$owner" "$dir" "$(readlink -f "$0")"

	trap - ERR
	cat <<EOF
export TEST_S3_DIR='$dir'
export TEST_S3_ENDPOINT='http://127.0.0.1:$port'
export TEST_S3_BUCKET='$BUCKET'
export AWS_ACCESS_KEY_ID='$access'
export AWS_SECRET_ACCESS_KEY='$secret'
export AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
EOF
}

case ${1:-} in
start) shift; start_service "$@" ;;
stop) stop_service "${2:?usage: s3.sh stop DIR}" ;;
*) echo "usage: s3.sh start [--owner PID] | stop DIR" >&2; exit 2 ;;
esac
