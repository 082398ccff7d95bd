#!/usr/bin/env bats
# make install: every artefact lands where packagers and systemd expect it.
load helpers

setup_file() {
	pg_setup_file
	# make install with PREFIX=/usr relinks both binaries: it runs in a copy of the tree,
	# never in $ROOT, whose binaries the suites beside this one are running.
	export INSTALL_TREE
	INSTALL_TREE=$(private_tree "$BATS_FILE_TMPDIR/tree")
}

teardown_file() {
	pg_teardown_file
}

@test "make install DESTDIR=... PREFIX=/usr installs binary, man pages, completions, config and units" {
	dest="$BATS_TEST_TMPDIR/root"
	run make -C "$INSTALL_TREE" --no-print-directory install DESTDIR="$dest" PREFIX=/usr
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	for f in usr/bin/platctl usr/lib/platctl/platctl-extract usr/share/man/man1/platctl.1 usr/share/man/man5/platctl.yaml.5 \
		usr/share/bash-completion/completions/platctl usr/share/zsh/vendor-completions/_platctl \
		usr/share/fish/vendor_completions.d/platctl.fish etc/platctl/config.yaml \
		etc/platctl/notify/digest.txt etc/platctl/notify/digest.html \
		etc/platctl/notify/reminder.txt etc/platctl/notify/reminder.html usr/share/man/man7/platctl-notify.7 \
		usr/share/doc/platctl/examples/config.yaml usr/share/doc/platctl/examples/classes.yaml \
		usr/share/doc/platctl/examples/nginx.conf usr/share/platctl/docs/index.html usr/share/platctl/docs/swagger-ui-bundle.js \
		usr/lib/systemd/system/platctl-migrate.service \
		usr/lib/systemd/system/platctl-consume.service usr/lib/systemd/system/platctl-compliance.timer \
		usr/lib/systemd/system/platctl-failure@.service usr/lib/platctl/platctl-job-failed \
		usr/lib/sysusers.d/platctl.conf etc/cron.d/platctl etc/platctl/compliance.d/10-expiry.yaml \
		usr/share/doc/platctl/examples/compliance.d/10-expiry.yaml; do
		[ -e "$dest/$f" ] || { echo "missing $f"; false; }
	done
	for page in "$ROOT"/man/*.scd; do
		name=$(basename "$page" .scd)
		[ -e "$dest/usr/share/man/man${name##*.}/$name" ] || { echo "missing man page $name"; false; }
	done
	grep -q '^ExecStart=/usr/bin/platctl migrate up$' "$dest/usr/lib/systemd/system/platctl-migrate.service"
	grep -q '^ExecStart=/usr/bin/platctl consume --concurrency 2$' "$dest/usr/lib/systemd/system/platctl-consume.service"
	! grep -rq '@BINDIR@' "$dest"
	# the taxonomy is compiled in: nothing in /etc that platctl would not read
	[ ! -e "$dest/etc/platctl/classes.yaml" ]
	"$dest/usr/bin/platctl" --config "$dest/etc/platctl/config.yaml" config validate --strict
	# every shipped rule file is installed, and validates where it lands
	[ "$(ls "$dest/etc/platctl/compliance.d")" = "$(cd "$ROOT/etc/platctl/compliance.d" && ls -- *.yaml)" ]
	"$dest/usr/bin/platctl" --config "$dest/etc/platctl/config.yaml" compliance validate \
		--rules "$dest/etc/platctl/compliance.d" --strict
	[ -x "$dest/usr/lib/platctl/platctl-extract" ]
	# the parsers' libraries are the helper's alone
	[ -z "$(ldd "$dest/usr/bin/platctl" | grep -E 'libpoppler|libglib|libcairo|libzip|libseccomp')" ]
	ldd "$dest/usr/lib/platctl/platctl-extract" | grep -q libpoppler-glib
	# an existing config is never overwritten
	echo "tenant: mine" >"$dest/etc/platctl/config.yaml"
	make -C "$INSTALL_TREE" --no-print-directory install DESTDIR="$dest" PREFIX=/usr >/dev/null
	[ "$(cat "$dest/etc/platctl/config.yaml")" = "tenant: mine" ]
	# nor is an edited rule file (the original stays among the examples)
	echo "rules: []" >"$dest/etc/platctl/compliance.d/10-expiry.yaml"
	make -C "$INSTALL_TREE" --no-print-directory install DESTDIR="$dest" PREFIX=/usr >/dev/null
	[ "$(cat "$dest/etc/platctl/compliance.d/10-expiry.yaml")" = "rules: []" ]
	cmp "$ROOT/etc/platctl/compliance.d/10-expiry.yaml" "$dest/usr/share/doc/platctl/examples/compliance.d/10-expiry.yaml"
}

# milliseconds of a systemd time span (systemd.time(7): "5min", "90s", "1h 30min", "300"
# meaning seconds) or of a platctl duration ("500ms", "10s", "5m", "2h", bare = seconds).
to_ms() { # systemd|platctl VALUE
	python3 - "$1" "$2" <<'PY'
import re, sys
kind, text = sys.argv[1], sys.argv[2].strip()
ms = {"us": 0.001, "usec": 0.001, "ms": 1, "msec": 1, "": 1000, "s": 1000, "sec": 1000,
      "second": 1000, "seconds": 1000, "m": 60000, "min": 60000, "minute": 60000,
      "minutes": 60000, "h": 3600000, "hr": 3600000, "hour": 3600000, "hours": 3600000,
      "d": 86400000, "day": 86400000, "days": 86400000, "w": 604800000, "week": 604800000,
      "weeks": 604800000}
if kind == "platctl":
    ms = {k: ms[k] for k in ("ms", "", "s", "m", "h")}
parts = re.findall(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([a-z]*)", text)
if not parts or "".join(n + u for n, u in parts) != re.sub(r"\s+", "", text) or any(u not in ms for _, u in parts):
    sys.exit(f"cannot parse {kind} duration {text!r}")
print(round(sum(float(n) * ms[u] for n, u in parts)))
PY
}

@test "platctl-consume.service gives the worker its grace period and then some before SIGKILL" {
	isolate
	: >"$BATS_TEST_TMPDIR/empty.yaml"
	run --separate-stderr "$PLATCTL" --config "$BATS_TEST_TMPDIR/empty.yaml" config show events.grace_period -o json
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$(jq -r '.keys[0].source' <<<"$output")" = default ]
	grace=$(jq -r '.keys[0].value' <<<"$output")
	grace_ms=$(to_ms platctl "$grace")
	unit="$ROOT/jobs/platctl-consume.service"
	[ "$(grep -c '^TimeoutStopSec=' "$unit")" -eq 1 ] || { echo "expected one TimeoutStopSec= in $unit"; false; }
	stop=$(sed -n 's/^TimeoutStopSec=//p' "$unit")
	stop_ms=$(to_ms systemd "$stop")
	# the worker needs time to exit after the grace period ends: at least 10 s more
	[ "$stop_ms" -ge $((grace_ms + 10000)) ] ||
		{ echo "TimeoutStopSec=$stop ($stop_ms ms) must exceed events.grace_period $grace ($grace_ms ms) by 10 s"; false; }
	# and the parser reads what systemd writes
	[ "$(to_ms systemd 5min)" -eq 300000 ] && [ "$(to_ms systemd 90s)" -eq 90000 ]
	[ "$(to_ms systemd '1min 30s')" -eq 90000 ] && [ "$(to_ms systemd 300)" -eq 300000 ]
	[ "$(to_ms platctl 5m)" -eq 300000 ] && [ "$(to_ms platctl 1500ms)" -eq 1500 ]
	! to_ms systemd 5fortnights 2>/dev/null
}

@test "an installed platctl parses with the helper installed beside it, wherever the prefix is" {
	dest="$BATS_TEST_TMPDIR/root"
	make -C "$INSTALL_TREE" --no-print-directory install DESTDIR="$dest" PREFIX=/usr >/dev/null
	# DESTDIR/usr is not the prefix platctl was built for: it finds lib/platctl/platctl-extract
	# from its own bin directory (not the build tree's; and as root the helper runs as
	# nobody, who cannot enter this test's directory: it is executed by descriptor).
	pipeline_setup
	printf 'Installed parser text.\fSecond page.\n' >"$BATS_TEST_TMPDIR/doc.txt"
	"$dest/usr/bin/platctl" upload "$BATS_TEST_TMPDIR/doc.txt" >/dev/null
	run --separate-stderr "$dest/usr/bin/platctl" consume --once -o json
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$(test_psql -d "$TEST_DB" -c "SELECT status FROM documents")" = processed ]
	[ "$(test_psql -d "$TEST_DB" -c "SELECT max(page) FROM chunks")" = 2 ]
	# and without it, the document fails naming every place it looked in
	rm "$dest/usr/lib/platctl/platctl-extract"
	printf 'Another document.\n' >"$BATS_TEST_TMPDIR/other.txt"
	"$dest/usr/bin/platctl" upload "$BATS_TEST_TMPDIR/other.txt" >/dev/null
	run --separate-stderr "$dest/usr/bin/platctl" consume --once --max-attempts 1 -o json
	[ "$status" -eq 1 ]
	[[ "$(test_psql -d "$TEST_DB" -c "SELECT error FROM documents WHERE name = 'other.txt'")" == *"not installed (looked for '$dest/usr/bin/platctl-extract', '$dest/usr/lib/platctl/platctl-extract', '/usr/lib/platctl/platctl-extract')"* ]]
}
