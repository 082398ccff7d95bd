#!/usr/bin/env bash
# Commit-to-client latency of the live feed (GET /v1/events as SSE, GET /v1/ws): an event
# committed in PostgreSQL until a client of platctl serve has it, against the anchor of
# the same event reaching a plain LISTEN on PostgreSQL, in the same run. Goal: p99 under
# 100 ms on loopback (issue 2.5); the ratio to LISTEN says what the server adds.
# One event at a time, COUNT of them (BENCH_EVENTS, default 200).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
COUNT=${BENCH_EVENTS:-200}
# Debian's python3, which has python3-asyncpg (a python3 earlier in PATH may not).
PY=${BENCH_PYTHON:-/usr/bin/python3}

bench_start events
bench_database bench_events
"$PY" -c 'import asyncpg' 2>/dev/null || bench_fail "python3-asyncpg is not installed (make deps)"

PLATCTL_PRINCIPAL=ada ./platctl user add ada --role admin --no-password >/dev/null
token=$(PLATCTL_PRINCIPAL=ada ./platctl -o json token create --name bench --role viewer | jq -r .token)
printf 'an event source\n' >"$work/e.txt"
doc=$(PLATCTL_PRINCIPAL=ada ./platctl -o json upload "$work/e.txt" | jq -r '.. | .id? // empty' | head -n 1)
tenant=$(psql -qAtX -d bench_events -c "SELECT id FROM tenants WHERE name = 'default'")
[ -n "$doc" ] && [ -n "$tenant" ] || bench_fail "no document or tenant to make events for"

./platctl -v --log-format json serve --listen 127.0.0.1:0 --threads "$(nproc)" 2>"$work/serve.log" &
serve_pid=$!
bench_stop+=("kill -TERM $serve_pid")
addr=
for _ in $(seq 100); do
	addr=$(jq -r 'select(.msg == "listening") | .address' "$work/serve.log" 2>/dev/null | head -n 1)
	[ -n "$addr" ] && break
	sleep 0.1
done
[ -n "$addr" ] || bench_fail "serve did not start" "$work/serve.log"

"$PY" bench/events_latency.py "$PLATCTL_DATABASE_URL" "http://$addr" "$token" "$tenant" "$doc" "$COUNT" \
	>"$work/latency.txt" 2>"$work/latency.err" || bench_fail "the latency run failed" "$work/latency.err"
# Every client got every event, in order (the script checks the order).
for k in listen sse ws; do
	bench_check "$k events" "$(awk -v k="$k" '$1 == k { print $5 }' "$work/latency.txt")" "$COUNT"
done
read -r _ l50 l99 _ _ < <(grep '^listen ' "$work/latency.txt")
for k in sse ws; do
	read -r _ p50 p99 max _ < <(grep "^$k " "$work/latency.txt")
	printf '%-4s commit to client: p50 %s ms, p99 %s ms, max %s ms (LISTEN anchor: p50 %s ms, p99 %s ms; ratio p50 %.2fx; goal p99 < 100 ms: %s)\n' \
		"$k" "$p50" "$p99" "$max" "$l50" "$l99" "$(echo "$p50 / $l50" | bc -l)" \
		"$([ "$(echo "$p99 < 100" | bc)" = 1 ] && echo met || echo NOT met)"
done
