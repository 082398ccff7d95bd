#!/usr/bin/env bash
# A fake of the Anthropic and OpenAI HTTP APIs for one test run, on 127.0.0.1 only
# (tests/services/fake_ai.py: POST /v1/messages, /v1/chat/completions, /v1/embeddings, and
# scripted faults through POST $TEST_AI_URL/__control/script; see fake_ai.py).
#
#   eval "$(tests/services/fake_ai.sh start [--owner PID])"   starts it and prints exports:
#       TEST_AI_DIR TEST_AI_URL TEST_AI_KEY
#   tests/services/fake_ai.sh stop DIR                        stops it and removes DIR
#
# The API key is made up per start; only that key is accepted (x-api-key for Anthropic,
# "Authorization: Bearer" for OpenAI). Anthropic's base URL is $TEST_AI_URL, OpenAI's is
# $TEST_AI_URL/v1. FAKE_AI_EMBED_DIM in the environment sets the embedding dimension (8).
# The request log is DIR/server.log. A watchdog stops the service and removes the directory
# when the owner process (default: the caller's parent) exits, so a crashed or killed test
# run leaves nothing behind.
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/lib.sh"

HERE=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
# Debian's python3 when installed, whatever python3 is on PATH otherwise.
if [ -x /usr/bin/python3 ]; then PYTHON=${FAKE_AI_PYTHON:-/usr/bin/python3}; else PYTHON=${FAKE_AI_PYTHON:-python3}; fi


start_service() {
	parse_owner fake_ai.sh "$@"
	local owner=$OWNER

	command -v "$PYTHON" >/dev/null || { echo "fake_ai.sh: $PYTHON is not installed; run make deps" >&2; exit 1; }

	local dir
	dir=$(mktemp -d /tmp/platctl-ai.XXXXXX)
	trap 'stop_service "$dir"' ERR

	local key
	key=sk-fake-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')

	# The server picks a free port itself and writes it to DIR/port once it listens.
	FAKE_AI_KEY=$key setsid "$PYTHON" "$HERE/fake_ai.py" --port 0 --port-file "$dir/port" \
		</dev/null >/dev/null 2>>"$dir/server.log" 3>&- &
	echo $! >"$dir/server.pid"

	local port='' up=0
	for _ in $(seq 1 150); do
		if [ -z "$port" ] && [ -s "$dir/port" ]; then
			port=$(cat "$dir/port")
		fi
		if [ -n "$port" ] && health_answers "$port"; then
			up=1
			break
		fi
		running "$(cat "$dir/server.pid")" || break
		sleep 0.1
	done
	if [ "$up" -ne 1 ]; then
		start_failed "fake_ai.sh: the fake AI service" "$dir"
	fi

	start_watchdog "$owner" "$dir" "$(readlink -f "$0")"

	trap - ERR
	cat <<EOF
export TEST_AI_DIR='$dir'
export TEST_AI_URL='http://127.0.0.1:$port'
export TEST_AI_KEY='$key'
EOF
}

case ${1:-} in
start) shift; start_service "$@" ;;
stop) stop_service "${2:?usage: fake_ai.sh stop DIR}" ;;
*) echo "usage: fake_ai.sh start [--owner PID] | stop DIR" >&2; exit 2 ;;
esac
