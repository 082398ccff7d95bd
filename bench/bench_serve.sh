#!/usr/bin/env bash
# platctl serve (issue 2.5), against its anchors in the same run, all on 127.0.0.1:
#   document: wrk on GET /v1/documents/{id} with an API token, against the FastAPI + uvicorn
#             reference in bench/reference (2 workers, asyncpg) doing the same token check
#             and the same document query on the same PostgreSQL. Goal >= 10x its req/s.
#   healthz:  wrk on GET /healthz against nginx returning the same static body (as many
#             workers as serve has threads). Goal >= 0.9x its req/s.
#   p99 latency of each, from wrk's latency distribution.
#   idle:     RSS of serve holding 1,000 idle TCP connections. Goal <= 64 MiB.
#   upload:   a 1 GiB body POSTed to /v1/documents vs `platctl upload` of a file of the
#             same size, both into the file store: MiB/s each and their ratio.
# Every server logs one line per request (serve -v, nginx's access log, uvicorn's), as they
# run deployed. serve's per-principal rate limit is off (server.rate_limit 0): wrk is one
# principal, and the reference has none. Checked before the ratios: each endpoint answers
# as expected (200 with the uploaded document's id, the same document JSON from serve and
# the reference, 401 for a forged and an unknown token, the same /healthz body), wrk saw no
# non-2xx responses and no socket errors, each server counted at least the requests wrk
# reports, every idle connection was still open when the RSS was read, and both big
# uploads are documents of the right size and SHA-256.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${BENCH_SERVE_SECONDS:-10}
CONNS=${BENCH_SERVE_CONNECTIONS:-64}
IDLE=${BENCH_SERVE_IDLE:-1000}
UPLOAD_MB=${BENCH_SERVE_UPLOAD_MB:-1024}
THREADS=$(nproc)
# Debian's python3, where apt puts fastapi, uvicorn and asyncpg: a pyenv or venv python3
# earlier on PATH has none of them.
PY=/usr/bin/python3
for c in wrk nginx curl jq; do
	command -v "$c" >/dev/null || [ -x "/usr/sbin/$c" ] || { echo "bench_serve: $c is missing" >&2; exit 1; }
done
"$PY" -c 'import fastapi, uvicorn, asyncpg' 2>/dev/null ||
	{ echo "bench_serve: $PY lacks fastapi, uvicorn or asyncpg (apt install python3-fastapi python3-uvicorn python3-asyncpg)" >&2; exit 1; }
. bench/lib.sh
bench_start serve
bench_database bench_serve
sqlq() { psql -qAtX -v ON_ERROR_STOP=1 -d bench_serve "$@"; }
mkdir -p "$work/tmp" "$work/files"
# serve spools request bodies to TMPDIR: here, so that the scratch dir holds all of it.
export TMPDIR="$work/tmp"
# A cheap password hash for the one account made below; none is checked on any timed path.
export PLATCTL_AUTH_ARGON2_MEMORY=1024 PLATCTL_AUTH_ARGON2_ITERATIONS=1
export PLATCTL_SERVER_RATE_LIMIT=0 PLATCTL_UPLOAD_MAX_SIZE=$((UPLOAD_MB + 1))MiB
# 1,000 idle connections and wrk's, on the server's side and the client's.
ulimit -n "$(ulimit -Hn)"

# A server started here stops before PostgreSQL does (bench_stop runs in order).
stop_pid() { kill "$1" 2>/dev/null && wait "$1" 2>/dev/null; return 0; }
free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_http() { # URL LOG PID: until URL answers at all (any status)
	for _ in $(seq 100); do
		curl -s -o /dev/null --max-time 1 "$1" && return 0
		kill -0 "$3" 2>/dev/null || bench_fail "the server for $1 exited" "$2"
		sleep 0.1
	done
	bench_fail "$1 does not answer" "$2"
}

# The tenant's first admin, an editor token (it reads, and uploads at the end) and one
# small document, as tests/cli/serve.bats makes them.
printf 'bench-password\n' | PLATCTL_PRINCIPAL=ada ./platctl user add ada --role admin --password-stdin >/dev/null
TOKEN=$(PLATCTL_PRINCIPAL=ada ./platctl -o json token create --name bench --role editor | jq -r .token)
printf 'A small document for the serve benchmark.\n' >"$work/files/small.txt"
DOC=$(PLATCTL_PRINCIPAL=ada ./platctl -o json upload "$work/files/small.txt" | jq -r '.. | .id? // empty' | head -n 1)
[ -n "$DOC" ] || bench_fail "the small upload printed no id"
AUTH="Authorization: Bearer $TOKEN"
# Refused two ways: a typo (the checksum catches it before any lookup), and a well-formed
# token with a valid checksum that the database does not know.
FORGED="${TOKEN%?}$([ "${TOKEN: -1}" = x ] && echo y || echo x)"
UNKNOWN=$("$PY" -c '
import secrets, zlib
b = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
r = "".join(secrets.choice(b) for _ in range(31))
v, c = zlib.crc32(r.encode()), ""
for _ in range(6):
    c, v = b[v % 62] + c, v // 62
print("plat_" + r + c)')

# platctl serve, as serve.bats starts it; its address from the "listening" line. Its
# defaults hold the idle connections below (--max-connections 1024); more need more.
serve_args=()
[ $((IDLE + 16)) -le 1024 ] || serve_args=(--max-connections "$((IDLE + 2 * CONNS))")
./platctl -v --log-format json serve --listen 127.0.0.1:0 --threads "$THREADS" "${serve_args[@]}" 2>"$work/serve.log" &
serve_pid=$!
bench_stop=("stop_pid $serve_pid" "${bench_stop[@]}")
SERVE=
for _ in $(seq 100); do
	SERVE=$(jq -r 'select(.msg == "listening") | .url' "$work/serve.log" 2>/dev/null | head -n 1)
	[ -n "$SERVE" ] && break
	kill -0 "$serve_pid" 2>/dev/null || bench_fail "platctl serve exited" "$work/serve.log"
	sleep 0.1
done
[ -n "$SERVE" ] || bench_fail "platctl serve logged no \"listening\" line" "$work/serve.log"

# The reference: uvicorn's own supervisor and 2 worker processes, with serve's database
# and its database.row_security (off here: the benchmark connects as the tables' owner,
# whom the policies do not bind; on, both would set the tenant in every transaction).
port=$(free_port)
row_security=$(./platctl -o json config show | jq -r '.keys[] | select(.key == "database.row_security") | .value')
REF_DATABASE_URL=$PLATCTL_DATABASE_URL REF_ROW_SECURITY=$([ "$row_security" = true ] && echo 1 || echo 0) \
	"$PY" -m uvicorn --app-dir bench/reference app:app --host 127.0.0.1 --port "$port" --workers 2 \
	>"$work/fastapi.log" 2>&1 &
ref_pid=$!
bench_stop=("stop_pid $ref_pid" "${bench_stop[@]}")
FASTAPI=http://127.0.0.1:$port
wait_http "$FASTAPI/healthz" "$work/fastapi.log" "$ref_pid"

# nginx: a master and THREADS workers, the static body of serve's /healthz.
port=$(free_port)
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<EOF
daemon off;
worker_processes $THREADS;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
	access_log $work/nginx/access.log;
	client_body_temp_path $work/nginx/client_body;
	proxy_temp_path $work/nginx/proxy;
	fastcgi_temp_path $work/nginx/fastcgi;
	uwsgi_temp_path $work/nginx/uwsgi;
	scgi_temp_path $work/nginx/scgi;
	keepalive_requests 1000000;
	server {
		listen 127.0.0.1:$port;
		location = /healthz {
			default_type application/json;
			return 200 '{"status":"ok"}';
		}
	}
}
EOF
"$(command -v nginx || echo /usr/sbin/nginx)" -p "$work/nginx" -c "$work/nginx/nginx.conf" </dev/null \
	>"$work/nginx/stderr.log" 2>&1 &
nginx_pid=$!
bench_stop=("stop_pid $nginx_pid" "${bench_stop[@]}")
NGINX=http://127.0.0.1:$port
wait_http "$NGINX/healthz" "$work/nginx/stderr.log" "$nginx_pid"

# Ratios of runs one after the other on a shared machine: what else ran shows here.
printf 'serve: %d threads, wrk -t2 -c%d for %ds per run; load average %s on %d cores before the first\n' \
	"$THREADS" "$CONNS" "$SECS" "$(cut -d' ' -f1 /proc/loadavg)" "$THREADS"

# Each endpoint answers as it should before anything is timed.
get() { # URL [curl args]: the status code; the body in $work/body
	local url=$1
	shift
	curl -sS -o "$work/body" -w '%{http_code}' "$@" "$url"
}
for s in SERVE FASTAPI; do
	base=${!s}
	bench_check "$s GET /v1/documents/{id}" "$(get "$base/v1/documents/$DOC" -H "$AUTH")" 200 "$work/body"
	bench_check "$s document id, name" "$(jq -r '"\(.id) \(.name)"' "$work/body")" "$DOC small.txt" "$work/body"
	jq -S . "$work/body" >"$work/$s.doc"
	bench_check "$s with a mistyped token" "$(get "$base/v1/documents/$DOC" -H "Authorization: Bearer $FORGED")" 401
	bench_check "$s with an unknown token" "$(get "$base/v1/documents/$DOC" -H "Authorization: Bearer $UNKNOWN")" 401
	bench_check "$s without a token" "$(get "$base/v1/documents/$DOC")" 401
done
diff -u "$work/SERVE.doc" "$work/FASTAPI.doc" >"$work/doc.diff" ||
	bench_fail "serve and the reference return different document JSON" "$work/doc.diff"
bench_check "serve GET /healthz" "$(get "$SERVE/healthz")" 200
healthz=$(jq -c . "$work/body")
bench_check "nginx GET /healthz" "$(get "$NGINX/healthz")" 200
bench_check "nginx /healthz body" "$(jq -c . "$work/body")" "$healthz"

# WHAT URL [wrk args]: wrk for SECS seconds; sets rps, p99 (ms) and n (requests). No
# response may be other than 2xx and no socket error may occur: a fast 401 or 429, or a
# refused connection, would be a rate of nothing. A 10 s timeout rather than wrk's 2 s, so
# that a slow response counts in the latency distribution instead of as an error.
bench_wrk() {
	local what=$1 url=$2 out=$work/wrk.$RANDOM
	shift 2
	wrk -t2 -c"$CONNS" -d"${SECS}s" --timeout 10s --latency "$@" "$url" >"$out" 2>&1 ||
		bench_fail "wrk on $what exited $?" "$out"
	grep -q 'Non-2xx' "$out" && bench_fail "$what: $(grep 'Non-2xx' "$out" | xargs)" "$out"
	grep -q 'Socket errors' "$out" && bench_fail "$what: $(grep 'Socket errors' "$out" | xargs)" "$out"
	rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
	n=$(awk '/ requests in / {print $1}' "$out")
	p99=$(awk '$1 == "99%" {v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
		printf "%.2f", v * (u == "us" ? 0.001 : u == "s" ? 1000 : u == "m" ? 60000 : 1)}' "$out")
	if [ -z "$rps" ] || [ -z "$p99" ] || [ "${n:-0}" -eq 0 ]; then
		bench_fail "$what: no rate in wrk's output" "$out"
	fi
}
# How many 200s serve counted on ROUTE, from its /metrics.
served() {
	curl -sS "$SERVE/metrics" | awk -v r="$1" -F' ' 'index($1, "platctl_http_requests_total{method=\"GET\",route=\"" r "\",status=\"200\"}") == 1 {print $2}'
}

before=$(served '/v1/documents/{id}')
bench_wrk "serve GET /v1/documents/{id}" "$SERVE/v1/documents/$DOC" -H "$AUTH"
s_rps=$rps s_p99=$p99 s_n=$n
[ "$(($(served '/v1/documents/{id}') - before))" -ge "$s_n" ] ||
	bench_fail "serve counted fewer document requests than wrk's $s_n" "$work/serve.log"
bench_wrk "fastapi GET /v1/documents/{id}" "$FASTAPI/v1/documents/$DOC" -H "$AUTH"
f_rps=$rps f_p99=$p99 f_n=$n
[ "$(grep -c "GET /v1/documents/$DOC HTTP/1.1\" 200" "$work/fastapi.log")" -ge "$f_n" ] ||
	bench_fail "the reference logged fewer document requests than wrk's $f_n" "$work/fastapi.log"
printf 'serve GET /v1/documents/{id}: %.0f req/s, p99 %s ms; fastapi: %.0f req/s, p99 %s ms; ratio %.2fx (goal >= 10x)\n' \
	"$s_rps" "$s_p99" "$f_rps" "$f_p99" "$(echo "$s_rps / $f_rps" | bc -l)"

before=$(served /healthz)
bench_wrk "serve GET /healthz" "$SERVE/healthz"
s_rps=$rps s_p99=$p99 s_n=$n
[ "$(($(served /healthz) - before))" -ge "$s_n" ] ||
	bench_fail "serve counted fewer /healthz requests than wrk's $s_n" "$work/serve.log"
bench_wrk "nginx GET /healthz" "$NGINX/healthz"
n_rps=$rps n_p99=$p99 n_n=$n
[ "$(grep -c 'GET /healthz HTTP/1.1" 200' "$work/nginx/access.log")" -ge "$n_n" ] ||
	bench_fail "nginx logged fewer /healthz requests than wrk's $n_n" "$work/nginx/access.log"
printf 'serve GET /healthz: %.0f req/s, p99 %s ms; nginx: %.0f req/s, p99 %s ms; ratio %.2fx (goal >= 0.9x)\n' \
	"$s_rps" "$s_p99" "$n_rps" "$n_p99" "$(echo "$s_rps / $n_rps" | bc -l)"
# Where the reference's time goes on the document route: its framework alone.
bench_wrk "fastapi GET /healthz" "$FASTAPI/healthz"
printf '  (not the goal) fastapi GET /healthz: %.0f req/s, p99 %s ms -> serve /healthz %.2fx of it\n' \
	"$rps" "$p99" "$(echo "$s_rps / $rps" | bc -l)"

# RSS of serve before and while IDLE connections that send nothing are open (well within
# --timeout, 30 s, and --max-connections). A connection serve had closed would be
# readable (EOF): all of them must still be open when the RSS is read.
idle_out=$("$PY" - "${SERVE#http://}" "$serve_pid" "$IDLE" <<'PY'
import select, socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
pid, n = sys.argv[2], int(sys.argv[3])

def rss_kib():
    for line in open("/proc/%s/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

before = rss_kib()
idle = [socket.create_connection((host, int(port)), timeout=5) for _ in range(n)]
time.sleep(1)
held = rss_kib()
closed = sum(1 for s in idle if select.select([s], [], [], 0)[0])
print(before, held, n - closed)
for s in idle:
    s.close()
PY
) || bench_fail "opening $IDLE idle connections failed"
read -r rss_before rss_held open_n <<<"$idle_out"
bench_check "idle connections still open when the RSS was read" "$open_n" "$IDLE"
printf 'serve RSS with %d idle connections: %.1f MiB (%.1f MiB before them, +%.1f KiB each) (goal <= 64 MiB)\n' \
	"$IDLE" "$(echo "$rss_held / 1024" | bc -l)" "$(echo "$rss_before / 1024" | bc -l)" \
	"$(echo "($rss_held - $rss_before) / $IDLE" | bc -l)"

# Upload: two different text files (the same bytes twice would be deduplicated into one
# document, and upload.allowed_types takes text, not random bytes): a distinct first line,
# then the same 16 MiB of base64 text over and over. Both are written before either run,
# so both are read from the page cache. Peak disk: the two files, their two objects and
# serve's spool of the one it receives.
size=$((UPLOAD_MB << 20))
need=$((UPLOAD_MB * 5 + 256))
avail=$(df -Pm "$work" | awk 'NR == 2 {print $4}')
[ "$avail" -ge "$need" ] ||
	bench_fail "upload of $UPLOAD_MB MiB needs about $need MiB free in $work, $avail MiB are: set BENCH_SERVE_UPLOAD_MB lower"
head -c $((12 << 20)) /dev/urandom | base64 -w 76 >"$work/files/block"
reps=$((size / $(stat -c %s "$work/files/block") + 1))
for f in http direct; do
	{
		echo "The $f upload of the serve benchmark."
		for _ in $(seq "$reps"); do cat "$work/files/block"; done
	} >"$work/files/$f.txt"
	truncate -s "$size" "$work/files/$f.txt"
done
rm "$work/files/block"
# -T streams the file (--data-binary @file would read all of it into memory first); no
# Expect: 100-continue round trip.
t0=$(date +%s.%N)
code=$(curl -sS -o "$work/up.json" -w '%{http_code}' -X POST -T "$work/files/http.txt" -H "$AUTH" -H 'Expect:' \
	-H 'Content-Type: application/octet-stream' "$SERVE/v1/documents?name=http.txt")
t1=$(date +%s.%N)
bench_check "POST /v1/documents of $UPLOAD_MB MiB" "$code" 201 "$work/up.json"
t2=$(date +%s.%N)
PLATCTL_PRINCIPAL=ada ./platctl -o json upload "$work/files/direct.txt" >"$work/direct.json" 2>"$work/direct.log" ||
	bench_fail "platctl upload exited $?" "$work/direct.log"
t3=$(date +%s.%N)
# Both documents, with the files' sizes and hashes (the two sums in parallel: not timed).
sha256sum "$work/files/http.txt" >"$work/http.sum" &
sha256sum "$work/files/direct.txt" >"$work/direct.sum"
wait $!
for f in http direct; do
	id=$(jq -r '.. | .id? // empty' "$work/$([ "$f" = http ] && echo up || echo direct).json" | head -n 1)
	bench_check "the $f upload's size and SHA-256 in the database" \
		"$(sqlq -F ' ' -c "SELECT size_bytes, sha256 FROM documents WHERE id = '$id'")" "$size $(cut -d' ' -f1 "$work/$f.sum")"
done
bench_check "objects of $UPLOAD_MB MiB in the store" "$(find "$work/store" -type f -size "$((UPLOAD_MB << 10))k" | wc -l)" 2
up_http=$(echo "$UPLOAD_MB / ($t1 - $t0)" | bc -l)
up_direct=$(echo "$UPLOAD_MB / ($t3 - $t2)" | bc -l)
printf 'upload %d MiB: POST /v1/documents %.0f MiB/s (%.1fs); platctl upload %.0f MiB/s (%.1fs); ratio %.2fx\n' \
	"$UPLOAD_MB" "$up_http" "$(echo "$t1 - $t0" | bc -l)" "$up_direct" "$(echo "$t3 - $t2" | bc -l)" \
	"$(echo "$up_http / $up_direct" | bc -l)"
