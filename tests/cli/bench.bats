#!/usr/bin/env bats
# The benchmarks run with their own configuration, never the caller's (a `make demo`
# shell's dev profile once sent bench_consume.sh to the PostgreSQL queue and it printed a
# ratio of nothing), and fail loudly when they cannot verify their work. Only bench/lib.sh
# is exercised here; the benchmarks themselves are not timed tests.
load helpers

@test "bench/lib.sh drops the caller's PLATCTL_* and client settings and gives the benchmark its own HOME" {
	isolate
	mkdir -p "$HOME/.config/platctl"
	printf 'events:\n  backend: postgres\n' >"$HOME/.config/platctl/config.yaml"
	run env PLATCTL_PROFILE=dev PLATCTL_EVENTS_BACKEND=postgres PLATCTL_CONFIG=/etc/x.yaml PGHOST=elsewhere \
		AWS_PROFILE=prod KCAT_CONFIG=/x BENCH_KEEP=1 bash -c '
		cd "$1" && . bench/lib.sh && bench_scratch selftest
		compgen -e | grep -E "^(PLATCTL_|PG[A-Z]+$|AWS_|KCAT_CONFIG$)" | sed "s/^/leaked: /"
		echo "home=$HOME"
		echo "xdg=$XDG_CONFIG_HOME $XDG_DATA_HOME $XDG_CACHE_HOME"
		echo "keep=$BENCH_KEEP"
		[ -d "$XDG_DATA_HOME" ] && [ -d "$XDG_CACHE_HOME" ] && echo dirs
		[ -f "$XDG_CONFIG_HOME/platctl/config.yaml" ] && [ ! -s "$XDG_CONFIG_HOME/platctl/config.yaml" ] && echo "empty config"
		"$1/platctl" config show events.backend -o json | jq -r ".file + \" \" + .keys[0].value + \" \" + .keys[0].source"
		echo "work=$work"' _ "$ROOT"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[[ "$output" != *leaked:* ]] || { echo "$output"; false; }
	work=$(sed -n 's/^work=//p' <<<"$output")
	[[ "$work" == /tmp/platctl-bench-selftest.* ]]
	grep -qx "home=$work/home" <<<"$output"
	grep -qx "xdg=$work/home/.config $work/home/.local/share $work/home/.cache" <<<"$output"
	grep -qx "keep=1" <<<"$output" # the benchmark's own knobs pass
	grep -qx dirs <<<"$output"
	grep -qx "empty config" <<<"$output"
	# platctl reads the benchmark's empty file: defaults, not the caller's postgres backend
	grep -qx "$work/home/.config/platctl/config.yaml auto default" <<<"$output"
	[ ! -e "$work" ] # removed on exit
}

@test "bench_check and bench_fail stop a benchmark with a clear message" {
	run bash -c 'cd "$1" && . bench/lib.sh && bench_scratch selftest && bench_check "events read" 0 600000; echo "printed a ratio"' _ "$ROOT"
	[ "$status" -eq 1 ]
	[[ "$output" == *"bench_selftest: FAILED: events read: got '0', expected '600000'"* ]]
	[[ "$output" != *"printed a ratio"* ]]
	run bash -c 'cd "$1" && . bench/lib.sh && bench_scratch selftest && bench_check same 5 5 && echo ok' _ "$ROOT"
	[ "$status" -eq 0 ] && [ "$output" = ok ]
}

@test "every benchmark sets itself up through bench/lib.sh" {
	for b in "$ROOT"/bench/bench_*.sh; do
		grep -q '^\. bench/lib\.sh$' "$b" || { echo "$b does not source bench/lib.sh"; false; }
		grep -qE '^bench_(start|scratch) ' "$b" || { echo "$b calls neither bench_start nor bench_scratch"; false; }
		! grep -n 'mktemp' "$b" || { echo "$b makes its own scratch dir"; false; }
	done
}

@test "the labelled question sets match the corpora bench_eval.sh measures" {
	local py=/usr/share/doc/python3.11/html r=/usr/share/doc/r-doc-pdf/manual
	local xsl=/usr/share/doc/docbook-xsl-doc-pdf/doc/reference.pdf.gz
	[ -d "$py/library" ] && [ -f "$r/R-intro.pdf" ] && [ -f "$xsl" ] || skip "the benchmark corpora are not installed (make deps)"
	run "$ROOT/bench/check_set.py" "$ROOT/bench/data/python-doc-eval.yaml" "$py/library" "$py/tutorial" "$py/howto" "$py/reference"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	# issue 2.2: 40+ answerable questions per corpus and 15+ unanswerable ones
	[[ "$output" =~ ^([0-9]+)\ answerable,\ ([0-9]+)\ unanswerable$ ]] && [ "${BASH_REMATCH[1]}" -ge 50 ] && [ "${BASH_REMATCH[2]}" -ge 15 ]
	run "$ROOT/bench/check_set.py" "$ROOT/bench/data/r-manuals-eval.yaml" "$r"/R-{FAQ,admin,data,exts,intro,ints,lang}.pdf "$xsl"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[[ "$output" =~ ^([0-9]+)\ answerable,\ ([0-9]+)\ unanswerable$ ]] && [ "${BASH_REMATCH[1]}" -ge 45 ] && [ "${BASH_REMATCH[2]}" -ge 15 ]
}

@test "bench/check_set.py refuses labels its corpus cannot have" {
	local d=$BATS_TEST_TMPDIR
	python3 "$ROOT/tests/data/gen_pdf.py" --pages 3 --seed 1 --out "$d/manual.pdf"
	mkdir -p "$d/html/sub"
	printf '<html><body><section id="intro"><h1>Intro</h1><section id="usage"><h2>Usage</h2></section></section></body></html>\n' >"$d/html/sub/page.html"
	cat >"$d/good.yaml" <<-'YAML'
	questions:
	  - question: where is it?
	    expect: manual.pdf
	    pages: [1, 3]
	  - question: how is it used?
	    expect: [page.html, manual.pdf]
	    sections: [usage]
	  - question: what is not here?
	    answerable: false
	YAML
	run "$ROOT/bench/check_set.py" "$d/good.yaml" "$d/manual.pdf" "$d/html"
	[ "$status" -eq 0 ] && [ "$output" = "2 answerable, 1 unanswerable" ] || { echo "$output"; false; }
	bad() { # YAML-QUESTION EXPECTED-MESSAGE
		printf 'questions:\n%s\n' "$1" >"$d/bad.yaml"
		run "$ROOT/bench/check_set.py" "$d/bad.yaml" "$d/manual.pdf" "$d/html"
		[ "$status" -eq 1 ] && [[ "$output" == *"$2"* ]] || { echo "for: $1"; echo "$output"; false; }
	}
	bad '  - {question: q, expect: manual.pdf, pages: [4]}' "page 4 is past the end of manual.pdf"
	bad '  - {question: q, expect: manual.pdf, pages: [0]}' "page 0 is not a page number"
	bad '  - {question: q, expect: page.html, sections: [nowhere]}' "no section id 'nowhere' in page.html"
	bad '  - {question: q, expect: page.html, pages: [1]}' "pages labelled on documents without pages"
	bad '  - {question: q, expect: other.pdf}' "other.pdf is not in the corpus"
	bad '  - {question: q}' "no expected document"
	bad '  - {question: q, answerable: false, expect: manual.pdf}' "an unanswerable question takes no expect"
	bad '  - {question: q, answerable: "no"}' "answerable must be true or false"
	bad $'  - {question: q, expect: manual.pdf}\n  - {question: q, expect: manual.pdf}' "asked twice"
	printf 'questions: []\n' >"$d/bad.yaml"
	run "$ROOT/bench/check_set.py" "$d/bad.yaml" "$d/manual.pdf"
	[ "$status" -eq 1 ] && [[ "$output" == *"non-empty list 'questions'"* ]]
}
