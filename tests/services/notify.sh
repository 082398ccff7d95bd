#!/usr/bin/env bash
# What notifications reach in tests, on 127.0.0.1 only (tests/services/notify_sink.py): a
# webhook receiver that checks signatures as platctl-notify(7) says, a plain SMTP sink and a
# sink that requires STARTTLS and AUTH (a self-signed certificate made here with openssl).
#
#   eval "$(tests/services/notify.sh start [--owner PID])"   starts them and prints exports:
#       TEST_NOTIFY_DIR TEST_WEBHOOK_URL TEST_WEBHOOK_SECRET TEST_SMTP_URL
#       TEST_SMTP_TLS_URL TEST_SMTP_CA TEST_SMTP_USER TEST_SMTP_PASSWORD
#   tests/services/notify.sh stop DIR                        stops them and removes DIR
#
# Messages the sinks accept are DIR/mail/NNNN.json; the receiver's log of requests is
# GET $TEST_WEBHOOK_URL/__control/received. A watchdog stops the service and removes the
# directory when the owner process (default: the caller's parent) exits.
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/lib.sh"

HERE=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
# Debian's python3 (which has python3-aiosmtpd) when installed.
if [ -x /usr/bin/python3 ]; then PYTHON=${NOTIFY_PYTHON:-/usr/bin/python3}; else PYTHON=${NOTIFY_PYTHON:-python3}; fi

start_sinks() {
	parse_owner notify.sh "$@"
	local owner=$OWNER

	"$PYTHON" -c 'import aiosmtpd' 2>/dev/null ||
		{ echo "notify.sh: python3-aiosmtpd is not installed; run make deps" >&2; exit 1; }
	command -v openssl >/dev/null || { echo "notify.sh: openssl is not installed" >&2; exit 1; }

	local dir
	dir=$(mktemp -d /tmp/platctl-notify.XXXXXX)
	trap 'stop_service "$dir"' ERR

	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
		-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
		-keyout "$dir/key.pem" -out "$dir/cert.pem" >/dev/null 2>&1

	local secret user=platctl-test password
	secret=whsec-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
	password=pw-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')

	NOTIFY_SINK_SECRET=$secret NOTIFY_SINK_USER=$user NOTIFY_SINK_PASSWORD=$password \
		setsid "$PYTHON" "$HERE/notify_sink.py" --dir "$dir" --tls-cert "$dir/cert.pem" \
		--tls-key "$dir/key.pem" </dev/null >/dev/null 2>>"$dir/server.log" 3>&- &
	echo $! >"$dir/server.pid"

	local http='' up=0
	for _ in $(seq 1 150); do
		if [ -z "$http" ] && [ -s "$dir/ports.json" ]; then
			http=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["http"])' "$dir/ports.json")
		fi
		if [ -n "$http" ] && health_answers "$http"; then
			up=1
			break
		fi
		running "$(cat "$dir/server.pid")" || break
		sleep 0.1
	done
	[ "$up" -eq 1 ] || start_failed "notify.sh: the notification sinks" "$dir"

	local smtp smtp_tls
	smtp=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["smtp"])' "$dir/ports.json")
	smtp_tls=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["smtp_tls"])' "$dir/ports.json")

	start_watchdog "$owner" "$dir" "$(readlink -f "$0")"

	trap - ERR
	cat <<EOT
export TEST_NOTIFY_DIR='$dir'
export TEST_WEBHOOK_URL='http://127.0.0.1:$http'
export TEST_WEBHOOK_SECRET='$secret'
export TEST_SMTP_URL='smtp://127.0.0.1:$smtp'
export TEST_SMTP_TLS_URL='smtp://127.0.0.1:$smtp_tls'
export TEST_SMTP_CA='$dir/cert.pem'
export TEST_SMTP_USER='$user'
export TEST_SMTP_PASSWORD='$password'
EOT
}

case ${1:-} in
start) shift; start_sinks "$@" ;;
stop) stop_service "${2:?usage: notify.sh stop DIR}" ;;
*) echo "usage: notify.sh start [--owner PID] | stop DIR" >&2; exit 2 ;;
esac
