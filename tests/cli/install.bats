#!/usr/bin/env bats
# make install: every artefact lands where packagers and systemd expect it.
load helpers

setup_file() {
	pg_setup_file
}

teardown_file() {
	pg_teardown_file
}

@test "make install DESTDIR=... PREFIX=/usr installs binary, man pages, completions, config and units" {
	dest="$BATS_TEST_TMPDIR/root"
	run make -C "$ROOT" --no-print-directory install DESTDIR="$dest" PREFIX=/usr
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	for f in usr/bin/platctl usr/lib/platctl/platctl-extract usr/share/man/man1/platctl.1 usr/share/man/man5/platctl.yaml.5 \
		usr/share/bash-completion/completions/platctl usr/share/zsh/vendor-completions/_platctl \
		usr/share/fish/vendor_completions.d/platctl.fish etc/platctl/config.yaml etc/platctl/classes.yaml \
		usr/share/doc/platctl/examples/config.yaml usr/lib/systemd/system/platctl-migrate.service \
		usr/lib/systemd/system/platctl-consume.service; do
		[ -e "$dest/$f" ] || { echo "missing $f"; false; }
	done
	for page in "$ROOT"/man/*.scd; do
		name=$(basename "$page" .scd)
		[ -e "$dest/usr/share/man/man${name##*.}/$name" ] || { echo "missing man page $name"; false; }
	done
	grep -q '^ExecStart=/usr/bin/platctl migrate up$' "$dest/usr/lib/systemd/system/platctl-migrate.service"
	grep -q '^ExecStart=/usr/bin/platctl consume --concurrency 2$' "$dest/usr/lib/systemd/system/platctl-consume.service"
	! grep -rq '@BINDIR@' "$dest"
	"$dest/usr/bin/platctl" --config "$dest/etc/platctl/config.yaml" config validate --strict
	[ -x "$dest/usr/lib/platctl/platctl-extract" ]
	# the parsers' libraries are the helper's alone
	[ -z "$(ldd "$dest/usr/bin/platctl" | grep -E 'libpoppler|libglib|libcairo|libzip|libseccomp')" ]
	ldd "$dest/usr/lib/platctl/platctl-extract" | grep -q libpoppler-glib
	# an existing config is never overwritten
	echo "tenant: mine" >"$dest/etc/platctl/config.yaml"
	make -C "$ROOT" --no-print-directory install DESTDIR="$dest" PREFIX=/usr >/dev/null
	[ "$(cat "$dest/etc/platctl/config.yaml")" = "tenant: mine" ]
}

@test "an installed platctl parses with the helper installed beside it, wherever the prefix is" {
	dest="$BATS_TEST_TMPDIR/root"
	make -C "$ROOT" --no-print-directory install DESTDIR="$dest" PREFIX=/usr >/dev/null
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
