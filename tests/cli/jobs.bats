#!/usr/bin/env bats
# jobs/: the systemd units verify as installed, the timers and the cron file keep the same
# schedules and commands, and the failure hook logs and posts.
load helpers

setup_file() {
	command -v systemd-analyze >/dev/null || skip "systemd-analyze missing (make deps installs systemd)"
	# The units as make install lays them out, in a root of their own: systemd-analyze
	# verify --root checks every ExecStart= binary there (not on this machine, where
	# platctl is not installed) and needs systemd's own units (sysinit.target, ...) to
	# resolve dependencies, so those are copied in from the system.
	# make install runs in a copy of the tree: PREFIX=/usr relinks the binaries, and the
	# suites beside this one run $ROOT's.
	export JOBS_ROOT="$BATS_FILE_TMPDIR/root"
	tree=$(private_tree "$BATS_FILE_TMPDIR/tree")
	make -C "$tree" --no-print-directory install DESTDIR="$JOBS_ROOT" PREFIX=/usr >/dev/null
	# -n: ours win over an installed platctl's
	cp -an /usr/lib/systemd/system/. "$JOBS_ROOT/usr/lib/systemd/system/"
}

units() {
	ls "$ROOT"/jobs/*.service "$ROOT"/jobs/*.timer | xargs -n1 basename
}

# verify's problems are mostly warnings ("Unknown key ..., ignoring") with exit 0: any
# output at all is a failure.
verify() { # UNIT...
	local args=()
	for u in "$@"; do args+=("/usr/lib/systemd/system/$u"); done
	run systemd-analyze verify --root="$JOBS_ROOT" --man=no "${args[@]}"
}

@test "systemd-analyze verify passes on every unit, as installed" {
	local n=0
	for u in $(units); do
		[[ $u == *@.service ]] && u=${u/@.service/@platctl-compliance.service.service}
		verify "$u"
		[ "$status" -eq 0 ] && [ -z "$output" ] || { echo "$u: $output"; false; }
		n=$((n + 1))
	done
	[ "$n" -ge 9 ]
	# all of them together, so that OnFailure= and the timers' services resolve
	verify platctl-compliance.timer platctl-retention.timer platctl-integrity.timer \
		platctl-compliance.service platctl-retention.service platctl-integrity.service
	[ "$status" -eq 0 ] && [ -z "$output" ] || { echo "$output"; false; }
}

@test "verify catches a broken unit, a bad directive and a missing binary" {
	local dir="$JOBS_ROOT/usr/lib/systemd/system"
	sed 's/^ProtectSystem=strict/ProtectSystem=bogus/' "$dir/platctl-retention.service" >"$dir/t-bad.service"
	verify t-bad.service
	[[ "$output" == *"protect system value"* ]]
	sed 's/^Type=oneshot/Typo=oneshot/' "$dir/platctl-retention.service" >"$dir/t-typo.service"
	verify t-typo.service
	[[ "$output" == *"Unknown key"*"Typo"* ]]
	sed 's|/usr/bin/platctl|/usr/bin/platctl-nonesuch|' "$dir/platctl-retention.service" >"$dir/t-nobin.service"
	verify t-nobin.service
	[ "$status" -ne 0 ]
	[[ "$output" == *"platctl-nonesuch"*"not executable"* ]]
	rm "$dir"/t-*.service
}

@test "the job units are hardened and report failures" {
	for s in compliance retention integrity; do
		f="$ROOT/jobs/platctl-$s.service"
		for want in '^User=platctl$' '^ProtectSystem=strict$' '^NoNewPrivileges=yes$' '^PrivateTmp=yes$' \
			'^OnFailure=platctl-failure@%n.service$' '^Type=oneshot$' '^CapabilityBoundingSet=$'; do
			grep -qE "$want" "$f" || { echo "$f lacks $want"; false; }
		done
		t="$ROOT/jobs/platctl-$s.timer"
		for want in '^Persistent=true$' '^RandomizedDelaySec=[0-9]+(min|h)$' '^OnCalendar=.+' '^WantedBy=timers.target$'; do
			grep -qE "$want" "$t" || { echo "$t lacks $want"; false; }
		done
	done
	grep -q '^u platctl ' "$ROOT/jobs/platctl.sysusers"
	[ -e "$JOBS_ROOT/usr/lib/sysusers.d/platctl.conf" ]
	[ -x "$JOBS_ROOT/usr/lib/platctl/platctl-job-failed" ]
	grep -q '^ExecStart=/usr/lib/platctl/platctl-job-failed %i$' "$JOBS_ROOT/usr/lib/systemd/system/platctl-failure@.service"
	! grep -rq '@[A-Z]*@' "$JOBS_ROOT/usr/lib/systemd/system/" "$JOBS_ROOT/etc/cron.d/"
}

@test "the timers run what the issue asks, hourly, daily and weekly" {
	d="$JOBS_ROOT/usr/lib/systemd/system"
	grep -qx 'ExecStart=/usr/bin/platctl compliance run --kind expiry,required_fields,pii,orphans,audit_chain' \
		"$d/platctl-compliance.service"
	grep -qx 'ExecStart=/usr/bin/platctl compliance run --kind retention' "$d/platctl-retention.service"
	grep -qx 'ExecStart=/usr/bin/platctl compliance run --kind integrity' "$d/platctl-integrity.service"
	# consecutive elapses are an hour, a day and a week apart
	for pair in compliance:3600 retention:86400 integrity:604800; do
		t=${pair%%:*} want=${pair##*:}
		cal=$(sed -n 's/^OnCalendar=//p' "$d/platctl-$t.timer")
		run env TZ=UTC systemd-analyze calendar --iterations=3 "$cal"
		[ "$status" -eq 0 ] || { echo "$output"; false; }
		gaps=$(grep -oE '[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} UTC' <<<"$output" | head -3 |
			python3 -c 'import sys,datetime as d; t=[d.datetime.strptime(l.strip(),"%Y-%m-%d %H:%M:%S UTC") for l in sys.stdin]; print(" ".join(str(int((b-a).total_seconds())) for a,b in zip(t,t[1:])))')
		[ "$gaps" = "$want $want" ] || { echo "$t: gaps $gaps, want $want"; false; }
	done
}

# The cron line's five fields as an OnCalendar= expression (numbers and * only, which is
# all the cron file uses; anything else fails the test).
cron_to_calendar() { # MIN HOUR DOM MON DOW
	python3 - "$@" <<'PY'
import re, sys
m, h, dom, mon, dow = sys.argv[1:6]
for f in (m, h, dom, mon, dow):
    if not re.fullmatch(r"\*|[0-9]+", f):
        sys.exit(f"cannot convert cron field {f!r}")
days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
two = lambda f: f if f == "*" else f"{int(f):02d}"
prefix = "" if dow == "*" else days[int(dow)] + " "
print(f"{prefix}*-{two(mon)}-{two(dom)} {two(h)}:{two(m)}:00")
PY
}

normalized() { # CALENDAR
	systemd-analyze calendar "$1" | sed -n 's/^ *Normalized form: //p'
}

@test "the cron file has valid lines with the timers' schedules and commands, each under flock -n" {
	cron="$JOBS_ROOT/etc/cron.d/platctl"
	[ -f "$cron" ]
	# cron ignores files in cron.d whose names hold a dot, and lines without a final newline
	[[ "$(basename "$cron")" != *.* ]]
	[ "$(tail -c1 "$cron" | od -An -c | tr -d ' ')" = '\n' ]
	[ "$(stat -c %a "$cron")" = 644 ]
	local n=0
	while read -r line; do
		[[ -z "$line" || "$line" == \#* ]] && continue
		if [[ "$line" =~ ^[A-Z_]+= ]]; then
			[[ "$line" =~ ^(SHELL|PATH|MAILTO)= ]] || { echo "unexpected variable: $line"; false; }
			continue
		fi
		read -r min hour dom mon dow user cmd <<<"$line"
		[ -n "$cmd" ] || { echo "too few fields: $line"; false; }
		[ "$user" = platctl ] || { echo "user column is '$user': $line"; false; }
		python3 - "$min" "$hour" "$dom" "$mon" "$dow" <<'PY' || { echo "bad time fields: $line"; false; }
import sys
lim = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
for f, (lo, hi) in zip(sys.argv[1:], lim):
    assert f == "*" or (f.isdigit() and lo <= int(f) <= hi), f
PY
		# deferring to the timers where systemd runs, else under flock -n
		[[ "$cmd" =~ ^\[\ -d\ /run/systemd/system\ \]\ \|\|\ flock\ -n\ (/run/lock/[a-z-]+\.lock)\ (.*)$ ]] ||
			{ echo "not '[ -d /run/systemd/system ] || flock -n LOCK CMD': $line"; false; }
		lock=${BASH_REMATCH[1]} run_cmd=${BASH_REMATCH[2]}
		kind=$(sed -E 's/.*--kind ([a-z_]+)$/\1/; s/.*--kind expiry,.*/compliance/' <<<"$run_cmd")
		unit="$JOBS_ROOT/usr/lib/systemd/system/platctl-$kind.service"
		[ -f "$unit" ] || { echo "no unit for: $line"; false; }
		[ "$(sed -n 's/^ExecStart=//p' "$unit")" = "$run_cmd" ] || { echo "command differs from $unit: $line"; false; }
		[[ "$lock" == "/run/lock/platctl-$kind.lock" ]]
		cal=$(sed -n 's/^OnCalendar=//p' "${unit%.service}.timer")
		[ "$(normalized "$(cron_to_calendar "$min" "$hour" "$dom" "$mon" "$dow")")" = "$(normalized "$cal")" ] ||
			{ echo "schedule differs from ${unit%.service}.timer ($cal): $line"; false; }
		n=$((n + 1))
	done <"$cron"
	[ "$n" -eq 3 ]
}

@test "the failure hook logs the unit and, when configured, posts it as JSON" {
	hook="$JOBS_ROOT/usr/lib/platctl/platctl-job-failed"
	env -u JOB_FAILURE_WEBHOOK MONITOR_SERVICE_RESULT=exit-code MONITOR_EXIT_STATUS=7 \
		MONITOR_INVOCATION_ID=abc123 "$hook" platctl-compliance.service 2>"$BATS_TEST_TMPDIR/log"
	grep -q 'platctl job platctl-compliance.service failed on .*: result exit-code, exit status 7 (journalctl -u platctl-compliance.service _SYSTEMD_INVOCATION_ID=abc123)' \
		"$BATS_TEST_TMPDIR/log"
	run "$hook"
	[ "$status" -eq 2 ]

	# a receiver on loopback that keeps what it got
	port_file="$BATS_TEST_TMPDIR/port" body="$BATS_TEST_TMPDIR/body"
	python3 - "$port_file" "$body" <<'PY' &
import http.server, sys
port_file, out = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        data = self.rfile.read(int(self.headers["Content-Length"]))
        with open(out, "wb") as f:
            f.write(self.headers["Content-Type"].encode() + b"\n" + data)
        self.send_response(204)
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(port_file, "w").write(str(s.server_port))
s.handle_request()
PY
	server=$!
	for _ in $(seq 50); do [ -s "$port_file" ] && break; sleep 0.1; done
	JOB_FAILURE_WEBHOOK="http://127.0.0.1:$(cat "$port_file")/hook?token=s3cret" MONITOR_SERVICE_RESULT=timeout \
		MONITOR_EXIT_STATUS=15 "$hook" 'platctl-failure\x2dtest.service' 2>"$BATS_TEST_TMPDIR/log"
	wait "$server"
	[ "$(head -1 "$body")" = application/json ]
	tail -n +2 "$body" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["event"] == "platctl.job.failed", d
assert d["unit"] == "platctl-failure\\x2dtest.service", d
assert d["result"] == "timeout" and d["exit_status"] == "15", d
assert d["host"] and d["time"].endswith("Z"), d'
	# the URL (it may hold a token) stays out of the journal
	! grep -q s3cret "$BATS_TEST_TMPDIR/log"

	# a receiver that is not there: the hook fails, so its own unit shows it
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	run env JOB_FAILURE_WEBHOOK="http://127.0.0.1:$port/" JOB_FAILURE_WEBHOOK_RETRIES=0 "$hook" x.service
	[ "$status" -eq 1 ]
	[[ "$output" == *"the webhook did not accept the report"* ]]
}

@test "a cron line runs its command under the lock, skips while it is held, and defers to systemd" {
	line=$(grep -- '--kind retention$' "$JOBS_ROOT/etc/cron.d/platctl")
	cmd=$(awk '{ $1 = $2 = $3 = $4 = $5 = $6 = ""; print }' <<<"$line")
	t="$BATS_TEST_TMPDIR"
	printf '#!/bin/sh\necho "$@" >>"%s/ran"\nsleep 2\n' "$t" >"$t/platctl"
	chmod +x "$t/platctl"
	# the command as cron's /bin/sh runs it, with the binary, the lock directory and the
	# systemd marker moved into the test's directory
	cmd=${cmd//\/usr\/bin\/platctl/$t/platctl}
	cmd=${cmd//\/run\/lock/$t}
	booted=${cmd//\/run\/systemd\/system/$t}
	cmd=${cmd//\/run\/systemd\/system/$t/no-systemd}
	sh -c "$cmd" &
	first=$!
	for _ in $(seq 50); do [ -e "$t/ran" ] && break; sleep 0.1; done
	run sh -c "$cmd"
	[ "$status" -eq 1 ] # flock -n: the first still holds the lock
	wait "$first"
	[ "$(cat "$t/ran")" = "compliance run --kind retention" ]
	[ -e "$t/platctl-retention.lock" ]
	sh -c "$booted"
	[ "$(wc -l <"$t/ran")" -eq 1 ] # systemd is the scheduler there: nothing ran
	sh -c "$cmd"
	[ "$(wc -l <"$t/ran")" -eq 2 ] # the lock is free again
}
