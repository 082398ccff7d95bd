#!/usr/bin/env bats
# make install: every artefact lands where packagers and systemd expect it.
load helpers

@test "make install DESTDIR=... PREFIX=/usr installs binary, man pages, completions, config and units" {
	dest="$BATS_TEST_TMPDIR/root"
	run make -C "$ROOT" --no-print-directory install DESTDIR="$dest" PREFIX=/usr
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	for f in usr/bin/platctl usr/share/man/man1/platctl.1 usr/share/man/man5/platctl.yaml.5 \
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
	# an existing config is never overwritten
	echo "tenant: mine" >"$dest/etc/platctl/config.yaml"
	make -C "$ROOT" --no-print-directory install DESTDIR="$dest" PREFIX=/usr >/dev/null
	[ "$(cat "$dest/etc/platctl/config.yaml")" = "tenant: mine" ]
}
