#!/usr/bin/env bats
# The layering rules the server (2.5) and remote mode (2.6) depend on: commands parse
# options, make one service call and render. No file in cmd/ sees an adapter's header
# (db, store, events, queue, ai, extract, sandbox) or a dependency's (libpq, libcurl,
# librdkafka, OpenSSL, libmagic) — not even through the headers it includes — and no
# command object calls into those libraries.

load helpers

setup_file() {
	cd "$BATS_TEST_DIRNAME/../.."
	export ROOT=$PWD
}

forbidden_headers='(^|/)lib/(db|store|events|queue|ai|extract|sandbox)/|libpq-fe\.h|/curl/|librdkafka/|/openssl/|/magic\.h'

@test "no command file includes an adapter or dependency header, directly or indirectly" {
	cd "$ROOT"
	flags=$(make -s print-cppflags)
	bad=""
	for f in cmd/platctl/*.c; do
		# -H lists every header a translation unit opens, one per line, dots for depth.
		hits=$(cc $flags -Icmd/platctl -E -H "$f" -o /dev/null 2>&1 | grep -E '^\.+ ' |
			sed -E 's/^\.+ //' | grep -E "$forbidden_headers" | sort -u || true)
		[ -z "$hits" ] || bad="$bad$f: $(echo $hits)"$'\n'
	done
	[ -z "$bad" ] || { echo "$bad"; false; }
}

@test "the include check catches a forbidden header" {
	cd "$ROOT"
	flags=$(make -s print-cppflags)
	tmp=$(mktemp -d)
	printf '#include "documents/documents.h"\n#include "db/db.h"\n' >"$tmp/probe.c"
	run bash -c "cc $flags -E -H '$tmp/probe.c' -o /dev/null 2>&1 | sed -E 's/^\.+ //' | grep -E '$forbidden_headers'"
	rm -rf "$tmp"
	[ "$status" -eq 0 ]
	[[ "$output" == *libpq-fe.h* ]]
}

@test "no command object calls libpq, libcurl, librdkafka, OpenSSL or libmagic" {
	cd "$ROOT"
	# The objects are compiled here from the current sources, not made in build/obj: make
	# in $ROOT would relink ./platctl under the suites running beside this one (and
	# rebuild everything when its flags differ from the build's).
	flags=$(make -s print-cppflags)
	obj="$BATS_TEST_TMPDIR/obj"
	mkdir -p "$obj"
	for f in cmd/platctl/*.c; do printf '%s\n' "$f"; done |
		xargs -P 2 -I{} sh -c 'cc $1 -Icmd/platctl -O2 -c -o "$2/$(basename "$3" .c).o" "$3"' _ "$flags" "$obj" {}
	[ "$(ls "$obj"/*.o | wc -l)" -eq "$(ls cmd/platctl/*.c | wc -l)" ]
	run bash -c "nm -u '$obj'/*.o | grep -E ' U (PQ|pg_|curl_|rd_kafka_|EVP_|SSL_|OPENSSL_|OpenSSL_|magic_)'"
	[ "$status" -eq 1 ] || { echo "$output"; false; }
}

@test "library error messages name no command-line option" {
	cd "$ROOT"
	# Strings passed to plat_error_set / plat_error_wrap in lib/ must not say '--flag'.
	run bash -c "grep -rnE 'plat_error_(set|wrap)\\([^;]*\"[^\"]*--[a-z]' lib --include=*.c"
	[ "$status" -eq 1 ] || { echo "$output"; false; }
}
