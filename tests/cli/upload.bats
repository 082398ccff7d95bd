#!/usr/bin/env bats
# platctl upload and platctl documents, on real PostgreSQL and both storage drivers.
load helpers

setup_file() {
	pg_setup_file
	s3_setup_file
}

teardown_file() {
	s3_teardown_file
	pg_teardown_file
}

setup() {
	isolate
	fresh_db
	"$PLATCTL" migrate up >/dev/null
	STORE="$BATS_TEST_TMPDIR/store"
	export PLATCTL_STORAGE_URL="file://$STORE"
	F="$BATS_TEST_TMPDIR/files"
	mkdir -p "$F"
	printf 'Master services agreement between Acme and Globex.\nValid until 2027-03-31.\n' >"$F/contract.txt"
	printf '# Policy\n\nAll laptops are encrypted.\n' >"$F/policy.md"
	printf '<html><head><title>R</title></head><body><h1>Report</h1><p>Q3</p></body></html>' >"$F/report.html"
	curl -fsS "$TEST_S3_ENDPOINT/__control/faults" -X DELETE >/dev/null
}

use_s3() {
	export PLATCTL_STORAGE_URL="s3://$TEST_S3_BUCKET/u$BATS_TEST_NUMBER"
	export PLATCTL_STORAGE_S3_ENDPOINT="$TEST_S3_ENDPOINT" PLATCTL_STORAGE_S3_PATH_STYLE=true
}

sql() {
	test_psql -d "$TEST_DB" -c "$1"
}

@test "upload: created, unchanged, new_version, with a stable JSON schema" {
	run --separate-stderr "$PLATCTL" upload "$F/contract.txt" "$F/policy.md" "$F/report.html" \
		--tag team=legal --tag year=2026 -o json
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	echo "$output" | python3 -c '
import json, re, sys
docs = json.load(sys.stdin)
assert len(docs) == 3
schema = {"id": str, "name": str, "title": (str, type(None)), "sha256": str, "size": int, "content_type": str,
          "status": str, "class": (str, type(None)), "tags": dict, "version": int, "created_by": str,
          "created_at": str, "outcome": str}
for d in docs:
    assert set(d) == set(schema), sorted(d)
    for k, t in schema.items():
        assert isinstance(d[k], t), (k, d[k])
    assert re.fullmatch(r"[0-9a-f-]{36}", d["id"]) and re.fullmatch(r"[0-9a-f]{64}", d["sha256"])
    assert d["outcome"] == "created" and d["status"] == "queued" and d["tags"] == {"team": "legal", "year": "2026"}
types = {d["name"]: d["content_type"] for d in docs}
assert types == {"contract.txt": "text/plain", "policy.md": "text/markdown", "report.html": "text/html"}, types'
	sha=$(sha256sum <"$F/contract.txt" | cut -d' ' -f1)
	[ -f "$STORE/default/.~$(printf '%s' "$sha" | sha256sum | cut -c1-2)/$sha" ]
	# the same content again: nothing uploaded, the existing document reported
	cp "$F/contract.txt" "$F/copy.txt"
	run "$PLATCTL" upload "$F/copy.txt" -o json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"outcome":	"unchanged"'* && "$output" == *'"name":	"contract.txt"'* ]]
	run "$PLATCTL" upload "$F/copy.txt" --new-version -o json
	[[ "$output" == *'"outcome":	"new_version"'* && "$output" == *'"version":	2'* ]]
	[ "$(sql "SELECT count(*) FROM documents")" -eq 4 ]
	[ "$(sql "SELECT count(*) FROM outbox WHERE event_type = 'document.uploaded'")" -eq 4 ]
	[ "$(sql "SELECT count(*) FROM audit_log WHERE action = 'document.upload'")" -eq 4 ]
	[ "$(sql "SELECT DISTINCT created_by FROM documents")" = "$(id -un)" ]
	[ "$("$PLATCTL" documents list -o ids | wc -l)" -eq 4 ]
}

@test "a page that opens as HTML is HTML, though libmagic reads '(function' later on as JavaScript" {
	f="$F/prototypes.html"
	{
		printf '\xef\xbb\xbf\n<!DOCTYPE html>\n<html lang="en">\n<head><title>Calls</title></head>\n<body>\n'
		for i in $(seq 60); do printf '<li><a href="#s%d">Section %d of the guide</a></li>\n' "$i" "$i"; done
		printf '<p>Specifying the argument types (function prototypes)</p>\n</body></html>\n'
	} >"$f"
	run --separate-stderr "$PLATCTL" upload "$f" -o json
	[ "$status" -eq 0 ] || { echo "$output $stderr"; false; }
	[ "$(echo "$output" | jq -r '.[0].content_type')" = text/html ]
	# what opens with something else is still judged by its content
	printf 'var x = 1;\n(function () { return x; })();\n<html>\n' >"$F/script.html"
	run --separate-stderr "$PLATCTL" upload "$F/script.html"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"is not allowed"* ]]
}

@test "round trip of a 200 MB file, byte-identical, on both drivers" {
	yes 'The quick brown fox jumps over the lazy dog; clause 7.3 applies.' | head -c 200000000 >"$F/big.txt"
	for driver in file s3; do
		[ "$driver" = s3 ] && use_s3
		id=$("$PLATCTL" upload "$F/big.txt" --new-version -o ids)
		"$PLATCTL" documents get "$id" "$F/big.$driver"
		cmp "$F/big.txt" "$F/big.$driver"
	done
}

@test "a directory of 500 small files with -j 4" {
	mkdir -p "$F/many/a" "$F/many/b"
	for i in $(seq 1 500); do
		printf 'document number %d\n' "$i" >"$F/many/$([ $((i % 2)) -eq 0 ] && echo a || echo b)/doc$i.txt"
	done
	run --separate-stderr "$PLATCTL" upload -r "$F/many" -j 4 -o json
	[ "$status" -eq 0 ] || { echo "$stderr" | tail -5; false; }
	[ "$(echo "$output" | grep -c '"outcome":	"created"')" -eq 500 ]
	[ "$(sql "SELECT count(*) FROM documents")" -eq 500 ]
	[ "$(sql "SELECT count(DISTINCT storage_key) FROM documents")" -eq 500 ]
	[ "$(find "$STORE" -type f | wc -l)" -eq 500 ]
	# paging through all of them with a cursor
	seen=0 cursor=
	while :; do
		page=$("$PLATCTL" documents list --limit 120 ${cursor:+--cursor "$cursor"} -o json)
		seen=$((seen + $(echo "$page" | grep -c '"id"')))
		cursor=$(echo "$page" | python3 -c 'import json,sys; print(json.load(sys.stdin)["next_cursor"] or "")')
		[ -n "$cursor" ] || break
	done
	[ "$seen" -eq 500 ]
}

@test "bad inputs: a clear message naming the file, no row, no object" {
	: >"$F/empty.txt"
	head -c 2000 /dev/urandom >"$F/random.bin"
	printf '%%PDF-1.4 not really\n' >"$F/fake.pdf.txt" # a .txt name does not make it text
	head -c 3000 /dev/zero | tr '\0' 'x' >"$F/large.txt"
	mkdir -p "$F/adir"
	export PLATCTL_UPLOAD_MAX_SIZE=2KiB
	check() { # expected-status expected-message args...
		local want=$1 msg=$2
		shift 2
		run --separate-stderr "$PLATCTL" upload "$@"
		[ "$status" -eq "$want" ] || { echo "upload $*: status $status: $stderr"; false; }
		[[ "$stderr$output" == *"$msg"* ]] || { echo "upload $*: no '$msg' in: $stderr"; false; }
	}
	check 5 "$F/nothere.txt': cannot open: No such file or directory" "$F/nothere.txt"
	check 1 "$F/adir': is a directory (use -r" "$F/adir"
	check 1 "$F/empty.txt': is empty" "$F/empty.txt"
	check 1 "is not allowed" "$F/random.bin"
	check 1 "$F/large.txt': is larger than upload.max_size" "$F/large.txt"
	PLATCTL_UPLOAD_ALLOWED_TYPES=pdf check 1 "type txt (text/plain) is not allowed" "$F/contract.txt"
	check 1 "invalid document name '../evil.txt'" - --name ../evil.txt <"$F/contract.txt"
	check 2 "--name is required" - <"$F/contract.txt"
	check 1 "2 of 3 files failed" "$F/contract.txt" "$F/empty.txt" "$F/random.bin"
	[ "$(sql "SELECT count(*) FROM documents")" -eq 1 ] # only contract.txt
	[ "$(find "$STORE" -type f | wc -l)" -eq 1 ]
	# names with invalid UTF-8 and control characters are stored safely and printed escaped
	cp "$F/policy.md" "$F/$(printf 'bad\xffname.md')"
	cp "$F/report.html" "$F/$(printf 'ctl\x1b[31mred.html')"
	run --separate-stderr "$PLATCTL" upload "$F/$(printf 'bad\xffname.md')" "$F/$(printf 'ctl\x1b[31mred.html')"
	[ "$status" -eq 0 ]
	[[ "$output" != *$'\x1b'* ]]
	[[ "$output" == *'ctl\x1b[31mred.html'* ]]
	[ "$(sql "SELECT name FROM documents WHERE name LIKE 'bad%'")" = "bad�name.md" ]
}

@test "kill -9 in the middle of a large upload leaves no document row" {
	use_s3
	yes 'slow upload line' | head -c 60000000 >"$F/slow.txt"
	curl -fsS -X POST -H 'Content-Type: application/json' \
		--data '{"mode":"delay","ms":1500,"count":100}' "$TEST_S3_ENDPOINT/__control/faults" >/dev/null
	"$PLATCTL" upload "$F/slow.txt" >/dev/null 2>&1 &
	pid=$!
	sleep 2
	kill -9 "$pid"
	wait "$pid" || true
	[ "$(sql "SELECT count(*) FROM documents")" -eq 0 ]
	[ "$(sql "SELECT count(*) FROM outbox")" -eq 0 ]
}

@test "documents list filters, show with history, and tenants do not see each other" {
	"$PLATCTL" upload "$F/contract.txt" --tag team=legal >/dev/null
	"$PLATCTL" upload "$F/policy.md" --tag team=it >/dev/null
	[ "$("$PLATCTL" documents list --tag team=legal -o ids | wc -l)" -eq 1 ]
	[ "$("$PLATCTL" documents list --name POLICY -o ids | wc -l)" -eq 1 ]
	[ "$("$PLATCTL" documents list --status queued -o ids | wc -l)" -eq 2 ]
	[ "$("$PLATCTL" documents list --status failed -o ids | wc -l)" -eq 0 ]
	[ "$("$PLATCTL" documents list --since 2999-01-01 -o ids | wc -l)" -eq 0 ]
	run --separate-stderr "$PLATCTL" documents list --since yesterday-ish
	[ "$status" -ne 0 ]
	run --separate-stderr "$PLATCTL" documents list --cursor garbage
	[ "$status" -eq 2 ]
	id=$("$PLATCTL" documents list --name contract -o ids)
	# for a person: a card in a fixed order, the history as a list
	run --separate-stderr "$PLATCTL" documents show "$id"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | awk '{print $1}' | head -8 | tr '\n' ' ')" = "name id status class title size type version " ]
	[[ "$output" == *$'\nhistory\n  '*"document.upload by "* ]]
	run "$PLATCTL" documents show "$id" -o json
	[[ "$output" == *'"action":	"document.upload"'* && "$output" == *'"storage_key":	"default/'* ]]
	# another tenant
	sql "INSERT INTO tenants (name) VALUES ('globex')" >/dev/null
	[ "$(PLATCTL_TENANT=globex "$PLATCTL" documents list -o ids | wc -l)" -eq 0 ]
	PLATCTL_TENANT=globex run --separate-stderr "$PLATCTL" documents show "$id"
	[ "$status" -eq 5 ]
	PLATCTL_TENANT=globex run --separate-stderr "$PLATCTL" documents get "$id"
	[ "$status" -eq 5 ]
	PLATCTL_TENANT=nosuch run --separate-stderr "$PLATCTL" documents list
	[ "$status" -eq 5 ]
	[[ "$stderr" == *"tenant 'nosuch' does not exist"* ]]
}

@test "documents get refuses content whose sha256 does not match, leaving no file" {
	id=$("$PLATCTL" upload "$F/contract.txt" -o ids)
	obj=$(find "$STORE" -type f)
	printf 'tampered' >>"$obj"
	run --separate-stderr "$PLATCTL" documents get "$id" "$F/out.txt"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"the stored object is corrupt"* ]]
	[ ! -e "$F/out.txt" ]
	[ -z "$(ls "$F" | grep platctl- || true)" ]
	run --separate-stderr "$PLATCTL" documents get 0f8fad5b-d9cb-469f-a165-70867728950e
	[ "$status" -eq 5 ]
}

@test "documents rm is soft; --purge removes content only when no other document uses it" {
	a=$("$PLATCTL" upload "$F/contract.txt" -o ids)
	b=$("$PLATCTL" upload "$F/contract.txt" --new-version -o ids)
	run "$PLATCTL" documents rm "$a" --purge -o json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"object_purged":	false'* ]] # b still uses it
	[ "$(find "$STORE" -type f | wc -l)" -eq 1 ]
	run --separate-stderr "$PLATCTL" documents get "$a"
	[ "$status" -eq 5 ]
	[ "$("$PLATCTL" documents list -o ids)" = "$b" ]
	[ "$(sql "SELECT status FROM documents WHERE id = '$a'")" = deleted ]
	run "$PLATCTL" documents rm "$b" --purge -o json
	[[ "$output" == *'"object_purged":	true'* ]]
	[ "$(find "$STORE" -type f | wc -l)" -eq 0 ]
	sql "UPDATE documents SET legal_hold = true WHERE id = '$a'" >/dev/null
	run --separate-stderr "$PLATCTL" documents rm "$a"
	[ "$status" -eq 6 ]
	[[ "$stderr" == *"legal hold"* ]]
}

@test "documents retry requeues failed documents with a new event" {
	id=$("$PLATCTL" upload "$F/contract.txt" -o ids)
	run --separate-stderr "$PLATCTL" documents retry "$id"
	[ "$status" -eq 6 ]
	sql "UPDATE documents SET status = 'failed', error = 'parser crashed', attempts = 3 WHERE id = '$id'" >/dev/null
	run "$PLATCTL" documents retry "$id" -o json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"status":	"queued"'* ]]
	[ "$(sql "SELECT count(*) FROM outbox WHERE aggregate_id = '$id'")" -eq 2 ]
	[ "$(sql "SELECT attempts || coalesce(error, '-') FROM documents WHERE id = '$id'")" = "0-" ]
}

@test "--wait follows the documents until processed or failed, and times out with exit 7" {
	run --separate-stderr "$PLATCTL" upload "$F/contract.txt" --wait --timeout 1
	[ "$status" -eq 7 ]
	[[ "$stderr" == *"still not processed after 1s"* ]]
	# a stand-in worker finishes the next one after a second
	(sleep 1; test_psql -d "$TEST_DB" -c "UPDATE documents SET status = 'processed' WHERE name = 'policy.md'") >/dev/null 3>&- &
	run --separate-stderr "$PLATCTL" upload "$F/policy.md" --wait --timeout 20 -o json
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[[ "$output" == *'"status":	"processed"'* ]]
	(sleep 1; test_psql -d "$TEST_DB" -c "UPDATE documents SET status = 'failed' WHERE name = 'report.html'") >/dev/null 3>&- &
	run --separate-stderr "$PLATCTL" upload "$F/report.html" --wait --timeout 20
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"1 document failed processing"* ]]
}

@test "a progress line on a terminal only" {
	yes 'progress' | head -c 20000000 >"$F/p.txt"
	run script -qec "$PLATCTL upload $F/p.txt" /dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *"1/1 files"*"ETA"* ]]
	run --separate-stderr "$PLATCTL" upload "$F/p.txt" --new-version
	[[ "$stderr$output" != *"files "*"ETA"* ]]
	run script -qec "$PLATCTL -q upload $F/p.txt --new-version" /dev/null
	[[ "$output" != *"ETA"* ]]
}

@test "shells complete document ids for documents show/get/rm/retry" {
	id=$("$PLATCTL" upload "$F/contract.txt" -o ids)
	[ "$("$PLATCTL" __complete documents show '')" = ":documents" ]
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	ln -sf "$PLATCTL" "$BATS_TEST_TMPDIR/bin/platctl"
	PATH="$BATS_TEST_TMPDIR/bin:$PATH"
	source "$ROOT/completions/platctl.bash"
	COMP_WORDS=(platctl documents show "${id:0:4}"); COMP_CWORD=3
	_platctl
	[ "${COMPREPLY[*]}" = "$id" ]
	if command -v fish >/dev/null; then
		run fish --no-config -c "source $ROOT/completions/platctl.fish; complete -C 'platctl documents rm ${id:0:4}'"
		[ "$output" = "$id" ]
	fi
}

@test "a read error on standard input fails the upload and stores nothing" {
	# The peer resets the connection after some bytes: read(2) fails with ECONNRESET,
	# which must not pass for the end of the document.
	run --separate-stderr python3 - "$PLATCTL" <<'PY'
import socket, struct, subprocess, sys, time
srv = socket.create_server(("127.0.0.1", 0))
cli = socket.create_connection(srv.getsockname())
conn, _ = srv.accept()
conn.sendall(b"The first part of a contract that is cut off.\n" * 200)
time.sleep(0.2)
conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
conn.close()  # RST
time.sleep(0.2)
p = subprocess.run([sys.argv[1], "upload", "-", "--name", "cut.txt", "-o", "json"], stdin=cli,
                   capture_output=True, text=True)
sys.stdout.write(p.stdout)
sys.stderr.write(p.stderr)
sys.exit(p.returncode)
PY
	[ "$status" -eq 1 ] || { echo "status $status: $output $stderr"; false; }
	[[ "$stderr" == *"cannot read the content"* ]] || { echo "$stderr"; false; }
	[ "$(sql 'SELECT count(*) FROM documents' | tr -d ' ')" = 0 ] || sql 'SELECT name, size_bytes FROM documents'
	[ -z "$(find "$STORE" -type f 2>/dev/null)" ]
}

@test "upload -r of an empty directory says there is nothing to upload and exits 1" {
	mkdir -p "$BATS_TEST_TMPDIR/empty/sub"
	run --separate-stderr "$PLATCTL" upload -r "$BATS_TEST_TMPDIR/empty"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"nothing to upload"* ]]
	[ "$(sql 'SELECT count(*) FROM documents' | tr -d ' ')" = 0 ]
}

# The object of an upload that saw it stored must survive a purge running meanwhile: the
# test holds the (tenant, sha256) lock create takes, so the upload waits between finding
# the object and committing, and the purge runs inside that window.
@test "a purge racing an upload of the same content never leaves a document without its object" {
	id=$("$PLATCTL" upload "$F/contract.txt" -o ids)
	sha=$(sha256sum <"$F/contract.txt" | cut -d' ' -f1)
	tenant=$(sql "SELECT id FROM tenants WHERE name = 'default'" | tr -d ' ')
	test_psql -d "$TEST_DB" -c "SELECT pg_advisory_lock(hashtextextended('$tenant' || ':' || '$sha', 0)), pg_sleep(3)" \
		>/dev/null &
	locker=$!
	advisory_locks() { # GRANTED (t/f): how many advisory locks in this database
		sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted = $1
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
	}
	# (waits for what the sleeps before them were for, however long a loaded machine takes)
	for _ in $(seq 100); do [ "$(advisory_locks true)" -ge 1 ] && break; sleep 0.05; done
	"$PLATCTL" upload "$F/contract.txt" --new-version -o ids >"$BATS_TEST_TMPDIR/second" &
	uploader=$!
	for _ in $(seq 100); do [ "$(advisory_locks false)" -ge 1 ] && break; sleep 0.05; done
	"$PLATCTL" documents rm --purge "$id" -o json >/dev/null
	wait "$uploader"
	wait "$locker"
	second=$(cat "$BATS_TEST_TMPDIR/second")
	[ -n "$second" ]
	run "$PLATCTL" documents get "$second" "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	cmp "$F/contract.txt" "$BATS_TEST_TMPDIR/out"
}

@test "many uploads of the same content racing purges: every live document stays readable" {
	for i in $(seq 1 6); do
		(for n in $(seq 1 8); do "$PLATCTL" upload "$F/policy.md" --new-version -o ids 2>/dev/null || true; done) &
	done
	(for n in $(seq 1 30); do
		for d in $("$PLATCTL" documents list --limit 1000 -o ids 2>/dev/null); do
			"$PLATCTL" documents rm --purge "$d" >/dev/null 2>&1 || true
		done
	done) &
	wait
	for d in $("$PLATCTL" documents list --limit 1000 -o ids); do
		run "$PLATCTL" documents get "$d" "$BATS_TEST_TMPDIR/got"
		[ "$status" -eq 0 ] || { echo "$d: $output"; false; }
		cmp "$F/policy.md" "$BATS_TEST_TMPDIR/got"
	done
}

# XHTML as DocBook/XSL and gtk-doc write it: an XML declaration first, which libmagic calls
# text/xml. Real XML that is not XHTML stays refused.
xhtml_page() { # title body [declaration]
	printf '%s<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n' "${3-<?xml version=\"1.0\" encoding=\"UTF-8\"?>
}"
	printf '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>%s</title></head><body><h1>%s</h1><p>%s</p></body></html>\n' "$1" "$1" "$2"
}

@test "XHTML is HTML: with and without the XML declaration, with a byte order mark, named .xhtml" {
	xhtml_page Install 'Run the installer.' >"$F/install.html"
	xhtml_page Bare 'No declaration here.' '' >"$F/bare.html"
	{ printf '\xef\xbb\xbf\n  '; xhtml_page Bom 'A byte order mark first.' "<?XML version='1.0' encoding='ISO-8859-1'?>
<!-- generated by DocBook XSL -->
<?xml-stylesheet href=\"doc.css\" type=\"text/css\"?>
"; } >"$F/bom.html"
	xhtml_page Chapter 'An .xhtml file.' >"$F/chapter.xhtml"
	xhtml_page Plain 'Named .xhtml, no declaration.' '' >"$F/plain.xhtml"
	# no doctype: the root element says it
	printf '<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body><p>Root only.</p></body></html>\n' >"$F/root.html"
	[ "$(file -b --mime-type "$F/install.html")" = text/xml ] # what libmagic says on its own
	run --separate-stderr "$PLATCTL" upload "$F/install.html" "$F/bare.html" "$F/bom.html" "$F/chapter.xhtml" \
		"$F/plain.xhtml" "$F/root.html" -o json
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$(echo "$output" | jq -r '.[] | "\(.name) \(.content_type) \(.outcome)"' | sort)" = "$(printf '%s\n' \
		'bare.html text/html created' 'bom.html application/xhtml+xml created' \
		'chapter.xhtml application/xhtml+xml created' 'install.html application/xhtml+xml created' \
		'plain.xhtml application/xhtml+xml created' 'root.html application/xhtml+xml created')" ]
	# XHTML is the html type: leaving html out of upload.allowed_types refuses it
	xhtml_page Other 'Not allowed.' >"$F/other.html"
	PLATCTL_UPLOAD_ALLOWED_TYPES=txt run --separate-stderr "$PLATCTL" upload "$F/other.html"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"type html (application/xhtml+xml) is not allowed"* ]]
}

@test "XML that is not XHTML is still refused: a feed, a DocBook source, an SVG" {
	printf '<?xml version="1.0"?>\n<rss version="2.0"><channel><title>News</title><item><title>x</title></item></channel></rss>\n' >"$F/feed.xml"
	printf '<?xml version="1.0"?>\n<!DOCTYPE book PUBLIC "-//OASIS//DTD DocBook XML V4.5//EN" "http://www.oasis-open.org/docbook/xml/4.5/docbookx.dtd">\n<book><title>Manual</title><chapter><para>Text</para></chapter></book>\n' >"$F/manual.html"
	printf '<?xml version="1.0" standalone="no"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>\n' >"$F/logo.svg"
	printf '<?xml version="1.0"?>\n<!-- <html> in a comment is no root -->\n<htmlhelp><topic/></htmlhelp>\n' >"$F/help.html"
	for f in feed.xml manual.html logo.svg help.html; do
		run --separate-stderr "$PLATCTL" upload "$F/$f"
		[ "$status" -eq 1 ] || { echo "$f: status $status"; false; }
		[[ "$stderr" == *"$f': type unknown ("*") is not allowed"* ]] || { echo "$f: $stderr"; false; }
	done
	[ "$(sql "SELECT count(*) FROM documents")" -eq 0 ]
}

# A documentation tree as Sphinx or DocBook leave it: pages beside stylesheets, scripts,
# images and archives.
doc_tree() { # dir
	mkdir -p "$1/_static/img" "$1/guide" "$1/_downloads"
	printf '<html><body><h1>Index</h1><p>Welcome to the manual.</p></body></html>\n' >"$1/index.html"
	xhtml_page 'Guide one' 'The first chapter of the guide.' >"$1/guide/one.html"
	printf 'Notes on the second chapter.\n' >"$1/guide/two.txt"
	printf 'body { color: #333; margin: 0 auto; }\n' >"$1/_static/basic.css"
	printf 'var x = 1;\nfunction f() { return x; }\n' >"$1/_static/doc.js"
	printf '\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89' >"$1/_static/img/logo.png"
	(cd "$1/guide" && zip -q ../_downloads/guide.zip one.html two.txt)
}

@test "upload -r skips and counts files of types not allowed, exits 0; a file named explicitly still fails" {
	d="$BATS_TEST_TMPDIR/docs"
	doc_tree "$d"
	run --separate-stderr "$PLATCTL" upload -r "$d" -o json
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[[ "$stderr" == *"skipped 4 files of types not allowed ("*"text/css 1"*")"* ]] || { echo "$stderr"; false; }
	[ "$(echo "$output" | jq length)" -eq 7 ]
	[ "$(echo "$output" | jq -r '[.[] | select(.outcome == "created") | .name] | sort | join(" ")')" = "index.html one.html two.txt" ]
	# each skipped file: its path, its sniffed type and why, no id
	echo "$output" | jq -e --arg d "$d" '[.[] | select(.outcome == "skipped")] | length == 4 and all(
		(.path | startswith($d + "/")) and (.reason | test("^type unknown \\(.*\\) is not allowed")) and
		(.content_type | type == "string") and (has("id") | not))' >/dev/null
	[ "$(echo "$output" | jq -r '.[] | select(.outcome == "skipped") | "\(.path | sub(".*/"; "")) \(.content_type)"' | sort | tr '\n' ' ')" = \
		"basic.css text/css doc.js text/javascript guide.zip application/zip logo.png image/png " ]
	[ "$(sql "SELECT count(*) FROM documents")" -eq 3 ]
	[ "$(find "$STORE" -type f | wc -l)" -eq 3 ]
	# the table lists what was uploaded; the count is on stderr
	run --separate-stderr "$PLATCTL" upload -r "$d"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | tail -n +2 | wc -l)" -eq 3 ]
	[[ "$output" != *skipped* && "$output" != *logo.png* ]]
	# named on the command line, a type not allowed is refused as before
	run --separate-stderr "$PLATCTL" upload "$d/_static/img/logo.png"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"logo.png': type unknown (image/png) is not allowed"* ]]
	run --separate-stderr "$PLATCTL" upload "$d/_static/basic.css"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"type unknown (text/css) is not allowed"* ]]
	run --separate-stderr "$PLATCTL" upload -r "$d" "$d/_downloads/guide.zip" -o json
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"1 of 8 files failed"* ]]
	[ "$(echo "$output" | jq -r '[.[] | select(.outcome == "failed") | .path] | join(" ")')" = "$d/_downloads/guide.zip" ]
	# other failures in a walk still fail it
	: >"$d/guide/empty.txt"
	run --separate-stderr "$PLATCTL" upload -r "$d"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"empty.txt': is empty"* && "$stderr" == *"1 of 8 files failed"* ]]
	# a walk of nothing but assets uploads nothing and is not an error
	run --separate-stderr "$PLATCTL" upload -r "$d/_static"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"skipped 3 files of types not allowed"* ]]
}

@test "--include and --exclude choose files in a walk: the last matching rule wins" {
	d="$BATS_TEST_TMPDIR/docs"
	doc_tree "$d"
	printf 'Static notes.\n' >"$d/_static/notes.txt"
	chosen() { # args...: the names of the documents a walk of $d with args uploads (skipped aside)
		"$PLATCTL" upload -r "$d" --new-version "$@" -o json | jq -r '[.[] | select(.outcome != "skipped") | .name] | sort | join(" ")'
	}
	[ "$(chosen)" = "index.html notes.txt one.html two.txt" ]
	[ "$(chosen --exclude '*' --include '*.html')" = "index.html one.html" ]
	[ "$(chosen --exclude '_static/*')" = "index.html one.html two.txt" ]
	# a star crosses '/': guide/* and * both cover subdirectories
	[ "$(chosen --exclude 'guide/*' --exclude '*.txt' --include 'two.txt')" = "index.html two.txt" ]
	run --separate-stderr "$PLATCTL" upload -r "$d" --include '*.txt' --exclude '*'
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"nothing to upload: --include/--exclude left out all 8 files"* ]]
	# the relative path does not depend on how the directory was written
	for dir in docs ./docs/ "$d//"; do
		[ "$(cd "$d/.." && "$PLATCTL" upload -r "$dir" --new-version --exclude '*' --include 'guide/*.html' -o json |
			jq -r '.[].name')" = one.html ] || { echo "walking $dir"; false; }
	done
	# excluded files are not even looked at; skipped ones are
	run --separate-stderr "$PLATCTL" upload -r "$d" --new-version --exclude '_static/*' --exclude '*.zip'
	[ "$status" -eq 0 ]
	[[ "$stderr" != *skipped* ]]
	# filters choose files in walks only
	run --separate-stderr "$PLATCTL" upload "$d/index.html" --exclude '*.html'
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"they need -r"* ]]
}

@test "an XHTML page uploaded and consumed is searchable" {
	{
		printf '<?xml version="1.0" encoding="ISO-8859-1"?>\n'
		printf '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
		printf '<html xmlns="http://www.w3.org/1999/xhtml"><head><meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1" />'
		printf '<title>Stylesheet parameters</title><style type="text/css">td { color: red }</style></head>\n'
		printf '<body><h1>Stylesheet parameters</h1><p>The xsltproc processor applies the stylesheet to the caf\xe9 menu.</p></body></html>\n'
	} >"$F/params.html"
	run --separate-stderr "$PLATCTL" upload "$F/params.html" -o json
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$(echo "$output" | jq -r '.[0].content_type')" = application/xhtml+xml ]
	run --separate-stderr "$PLATCTL" consume --once -o json
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$(echo "$output" | jq -r .processed)" -eq 1 ]
	[ "$(sql "SELECT status FROM documents")" = processed ]
	run --separate-stderr "$PLATCTL" search xsltproc processor -o json
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r '.[0].document')" = params.html ]
	text=$(sql "SELECT string_agg(text, ' ') FROM chunks")
	[[ "$text" == *"café menu"* ]] || { echo "$text"; false; } # decoded from ISO-8859-1
	[[ "$text" != *"color: red"* && "$text" != *"<?xml"* ]]
}
