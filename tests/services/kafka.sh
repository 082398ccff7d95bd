#!/usr/bin/env bash
# A Kafka cluster for one test run: build/tests/kafka-mock (librdkafka's mock cluster, see
# kafka_mock.c) listening on 127.0.0.1 only, reached by platctl over TCP.
#
#   eval "$(tests/services/kafka.sh start [--owner PID])"   starts it and prints exports:
#       TEST_KAFKA_DIR TEST_KAFKA_BROKERS TEST_KAFKA_PID
#   tests/services/kafka.sh down DIR | up DIR               takes every broker down / up
#   tests/services/kafka.sh ctl DIR COMMAND...              runs one control command (see
#       kafka_mock.c), e.g. "leader platctl.documents.dead-letter 0 -1", and waits for it
#   tests/services/kafka.sh stop DIR                        stops it and removes DIR
#
# KAFKA_MOCK_BROKERS (3) and KAFKA_MOCK_TOPICS (platctl.documents:6
# platctl.documents.dead-letter:1) in the environment shape the cluster. A watchdog stops
# it and removes DIR when the owner process (default: the caller's parent) exits.
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/lib.sh"

HERE=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
MOCK=${KAFKA_MOCK_BIN:-$HERE/../../build/tests/kafka-mock}

start_service() {
	parse_owner kafka.sh "$@"
	local owner=$OWNER
	[ -x "$MOCK" ] || { echo "kafka.sh: $MOCK is missing; run make test-bins" >&2; exit 1; }

	local dir
	dir=$(mktemp -d /tmp/platctl-kafka.XXXXXX)
	trap 'stop_service "$dir"' ERR

	local args=(--brokers "${KAFKA_MOCK_BROKERS:-3}") t
	for t in ${KAFKA_MOCK_TOPICS:-platctl.documents:6 platctl.documents.dead-letter:1}; do
		args+=(--topic "$t")
	done
	setsid "$MOCK" "${args[@]}" --control "$dir/control" </dev/null >"$dir/bootstrap" 2>>"$dir/server.log" 3>&- &
	echo $! >"$dir/server.pid"

	local brokers=''
	for _ in $(seq 1 100); do
		brokers=$(sed -n 's/^BOOTSTRAP //p' "$dir/bootstrap")
		[ -n "$brokers" ] && break
		running "$(cat "$dir/server.pid")" || break
		sleep 0.1
	done
	[ -n "$brokers" ] || start_failed "kafka.sh: the Kafka mock cluster" "$dir"

	start_watchdog "$owner" "$dir" "$(readlink -f "$0")"

	trap - ERR
	cat <<EOT
export TEST_KAFKA_DIR='$dir'
export TEST_KAFKA_BROKERS='$brokers'
export TEST_KAFKA_PID='$(cat "$dir/server.pid")'
EOT
}

signal_service() {
	local sig=$1 dir=$2
	kill "-$sig" "$(cat "$dir/server.pid")"
}

control_service() {
	local dir=$1
	shift
	rm -f "$dir/control.done"
	printf '%s\n' "$*" >"$dir/control"
	kill -HUP "$(cat "$dir/server.pid")"
	for _ in $(seq 1 100); do
		[ -e "$dir/control.done" ] && { rm -f "$dir/control.done"; return 0; }
		sleep 0.05
	done
	echo "kafka.sh: the mock did not run the control command" >&2
	return 1
}

case ${1:-} in
start) shift; start_service "$@" ;;
down) signal_service USR1 "${2:?usage: kafka.sh down DIR}" ;;
up) signal_service USR2 "${2:?usage: kafka.sh up DIR}" ;;
ctl) shift; control_service "${1:?usage: kafka.sh ctl DIR COMMAND...}" "${@:2}" ;;
stop) stop_service "${2:?usage: kafka.sh stop DIR}" ;;
*) echo "usage: kafka.sh start [--owner PID] | down DIR | up DIR | ctl DIR COMMAND... | stop DIR" >&2; exit 2 ;;
esac
