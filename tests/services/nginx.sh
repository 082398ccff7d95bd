#!/usr/bin/env bash
# nginx as a load balancer in front of several `platctl serve` instances, for one test, on
# 127.0.0.1 only: round robin, the next instance tried when one fails (connection refused,
# reset, timeout, 502/503: the requests a retry recovers), no buffering (event streams pass
# through as they come), no body size limit of its own (platctl enforces it).
#
#   eval "$(tests/services/nginx.sh start [--owner PID] --upstream ADDR:PORT ...)"
#       prints: export TEST_NGINX_DIR TEST_NGINX_URL
#   tests/services/nginx.sh stop DIR
#
# One process (master_process off) running as the caller, its config, logs and temp files in
# DIR; a watchdog stops it when the owner process exits.
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/lib.sh"

start_service() {
	local upstreams=() args=()
	while [ $# -gt 0 ]; do
		case $1 in
		--upstream) upstreams+=("$2"); shift 2 ;;
		*) args+=("$1"); shift ;;
		esac
	done
	parse_owner nginx.sh "${args[@]}"
	[ ${#upstreams[@]} -gt 0 ] || { echo "nginx.sh: at least one --upstream ADDR:PORT" >&2; exit 2; }
	local nginx
	nginx=$(command -v nginx || echo /usr/sbin/nginx)
	[ -x "$nginx" ] || { echo "nginx.sh: nginx is not installed; run make deps" >&2; exit 1; }

	local dir
	dir=$(mktemp -d /tmp/platctl-nginx.XXXXXX)
	trap 'stop_service "$dir"' ERR
	local port
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	{
		echo "daemon off; master_process off; worker_processes 1; pid $dir/nginx.pid; error_log $dir/server.log warn;"
		echo "events { worker_connections 4096; }"
		echo "http {"
		echo "  access_log $dir/access.log;"
		for t in client_body proxy fastcgi uwsgi scgi; do echo "  ${t}_temp_path $dir/$t;"; done
		echo "  upstream platctl {"
		for u in "${upstreams[@]}"; do echo "    server $u max_fails=1 fail_timeout=10s;"; done
		echo "    keepalive 16;"
		echo "  }"
		echo "  server {"
		echo "    listen 127.0.0.1:$port;"
		echo "    location = /__control/health { return 200 'ok'; }"
		echo "    location = /v1/ws {"
		echo "      proxy_pass http://platctl;"
		echo "      proxy_http_version 1.1;"
		echo "      proxy_set_header Upgrade \$http_upgrade;"
		echo "      proxy_set_header Connection upgrade;"
		echo "      proxy_read_timeout 1h;"
		echo "    }"
		echo "    location / {"
		echo "      proxy_pass http://platctl;"
		echo "      proxy_http_version 1.1;"
		echo "      proxy_set_header Connection '';"
		echo "      proxy_next_upstream error timeout http_502 http_503;"
		echo "      proxy_connect_timeout 2s;"
		echo "      proxy_buffering off;"
		echo "      proxy_request_buffering off;"
		echo "      proxy_read_timeout 1h;"
		echo "      client_max_body_size 0;"
		echo "    }"
		echo "  }"
		echo "}"
	} >"$dir/nginx.conf"
	setsid "$nginx" -p "$dir" -c "$dir/nginx.conf" -e "$dir/server.log" </dev/null >/dev/null 2>>"$dir/server.log" 3>&- &
	echo $! >"$dir/server.pid"
	local up=0
	for _ in $(seq 1 100); do
		if health_answers "$port"; then
			up=1
			break
		fi
		kill -0 "$(cat "$dir/server.pid")" 2>/dev/null || break
		sleep 0.1
	done
	[ "$up" -eq 1 ] || start_failed "nginx.sh: nginx" "$dir"
	start_watchdog "$OWNER" "$dir" "$(readlink -f "$0")"
	trap - ERR
	cat <<EOF2
export TEST_NGINX_DIR='$dir'
export TEST_NGINX_URL='http://127.0.0.1:$port'
EOF2
}

case ${1:-} in
start) shift; start_service "$@" ;;
stop) stop_service "${2:?usage: nginx.sh stop DIR}" ;;
*) echo "usage: nginx.sh start [--owner PID] --upstream ADDR:PORT... | stop DIR" >&2; exit 2 ;;
esac
