#!/usr/bin/env bats
# Build flags: -Werror is for the project's own builds (make check, CI, DEVELOPER=1); the
# default build and the Debian package build warn without failing, so a newer compiler's
# new warnings do not break a distribution's build. Dry runs (make -n -B) only.
load helpers

setup() {
	isolate
	# whatever make (if any) runs these tests must not leak its flags into the dry runs
	unset DEVELOPER MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES
}

# The compile commands of a dry run from the tree's root: make ARGS... -n -B
compile_lines() {
	(cd "$ROOT" && make --no-print-directory -n -B "$@") | grep -E '(^| )-c -o build/(obj|asan)/'
}

werror() { grep -E -- '(^| )-Werror( |$)'; }

@test "the default build warns without failing: no -Werror" {
	run compile_lines build/obj/lib/error/error.o
	[ "$status" -eq 0 ] && [ -n "$output" ] || { echo "no compile command: $output"; false; }
	! werror <<<"$output"
	[[ "$output" == *" -Wall -Wextra "* ]]
	DEVELOPER=0 run compile_lines build/obj/lib/error/error.o
	! werror <<<"$output"
}

@test "DEVELOPER=1 builds with -Werror, from the command line or the environment" {
	run compile_lines build/obj/lib/error/error.o DEVELOPER=1
	[ "$status" -eq 0 ]
	werror <<<"$output" >/dev/null
	DEVELOPER=1 run compile_lines build/obj/lib/error/error.o
	werror <<<"$output" >/dev/null
}

@test "make check (and so .ci/run) compiles everything with -Werror" {
	grep -qx 'make check </dev/null' "$ROOT/.ci/run"
	run compile_lines check
	[ "$status" -eq 0 ]
	[ "$(wc -l <<<"$output")" -gt 40 ] || { echo "too few compile commands: $output"; false; }
	! grep -vE -- '(^| )-Werror( |$)' <<<"$output" || { echo "compiled without -Werror under check"; false; }
}

@test "the Debian package build never sets -Werror, even with DEVELOPER=1 in the environment" {
	! grep -rqE -- '-Werror( |$)' "$ROOT/packaging"
	# debian/rules' own build step, as dpkg-buildpackage runs it from the package root, with
	# hardening flags (their -Werror=format-security is a single warning, and fine)
	export DEVELOPER=1 CFLAGS="-g -O2 -fstack-protector-strong -Wformat -Werror=format-security"
	# (-B reaches the inner make through MAKE: on the outer one it would remake rules itself)
	run bash -c "cd '$ROOT' && make --no-print-directory -n -f packaging/debian/rules override_dh_auto_build \
		MAKE='make -B' | grep -E '(^| )-c -o build/obj/'"
	[ "$status" -eq 0 ]
	[ "$(wc -l <<<"$output")" -gt 20 ] || { echo "too few compile commands: $output"; false; }
	! werror <<<"$output" || { echo "the package build has -Werror"; false; }
	[[ "$output" == *"-Werror=format-security"* ]]
}

@test "turning -Werror on rebuilds objects made without it; unchanged flags rebuild nothing" {
	# a copy of the tree (with the new Makefile and tests), so this tree's build is untouched
	tree="$BATS_TEST_TMPDIR/tree"
	mkdir -p "$tree"
	(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp -P --parents -t "$tree")
	build() { make -C "$tree" --no-print-directory build/obj/lib/error/error.o "$@" 2>&1; }
	[[ "$(build)" == *"-c -o build/obj/lib/error/error.o"* ]]
	[ -z "$(build | grep -- '-c -o')" ] # up to date: the flags stamp did not change
	run build DEVELOPER=1
	[[ "$output" == *"-Werror"*"-c -o build/obj/lib/error/error.o"* ]]
	[ -z "$(build DEVELOPER=1 | grep -- '-c -o')" ]
}
