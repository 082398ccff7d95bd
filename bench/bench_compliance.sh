#!/usr/bin/env bash
# `platctl compliance run` over 100,000 documents with every rule kind (integrity sampled),
# against plain SQL doing the same date and field checks (expiry, required fields,
# retention) in the same run.
#   run 1: nothing checked before: every finding is new and integrity reads every object;
#   run 2: the steady state an hourly timer sees: nothing changed, integrity reads its sample.
#   anchor: three SELECTs in one psql, computing the expiry, required-field and retention
#           findings the rules produce (process start included on both sides).
# Printed: the time of each run and its ratio to the anchor, and platctl's peak memory.
# Checked before the ratios: the documents and objects are there, run 1 opened exactly the
# findings the SQL counts (per rule), run 2 opened and resolved nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
DOCS=${BENCH_DOCS:-100000}
. bench/lib.sh
bench_start compliance
bench_database bench_compliance
sqlq() { psql -qAtX -v ON_ERROR_STOP=1 -d bench_compliance "$@"; }
tenant=$(sqlq -c "SELECT id FROM tenants WHERE name = 'default'")

# Four classes, a quarter each: contracts with an expiry date from 100 days ago to 299 days
# ahead, invoices of which a third lack amounts, reports uploaded up to two years ago (a
# one-year retention), policies of which a fifth mention an e-mail address.
python3 - "$work/store" "$tenant" "$DOCS" >"$work/docs.copy" <<'EOF'
import datetime, hashlib, json, os, sys
store, tenant, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
# The file store's layout (lib/store/store_file.c): ROOT/<tenant>/.~XY/<sha256>, XY the
# first byte of sha256(<sha256 hex>).
for b in range(256):
    os.makedirs(os.path.join(store, tenant, ".~%02x" % b), exist_ok=True)
today = datetime.date.today()
now = datetime.datetime.now(datetime.timezone.utc)
classes = ["contract", "invoice", "report", "policy"]
for i in range(n):
    body = ("document %d\n" % i).encode()
    sha = hashlib.sha256(body).hexdigest()
    fan = ".~%02x" % hashlib.sha256(sha.encode()).digest()[0]
    with open(os.path.join(store, tenant, fan, sha), "wb") as f:
        f.write(body)
    cls = classes[i % 4]
    fields = {"dates": [], "parties": ["Acme GmbH", "Example Ltd"]}
    created = now
    if cls == "contract":
        fields["expires_on"] = (today + datetime.timedelta(days=i % 400 - 100)).isoformat()
    elif cls == "invoice":
        fields["amounts"] = [] if i % 3 == 0 else ["EUR 120.00"]
    elif cls == "report":
        created = now - datetime.timedelta(days=i % 730, hours=1)
    print("\t".join([tenant, "doc%d.txt" % i, "text/plain", str(len(body)), sha, tenant + "/" + sha,
                     "processed", cls, json.dumps(fields), "bench", created.isoformat()]))
EOF
sqlq -c "\\copy documents (tenant_id, name, content_type, size_bytes, sha256, storage_key, status, class, fields, created_by, created_at) FROM '$work/docs.copy'"
sqlq -c "INSERT INTO chunks (tenant_id, document_id, ord, page, text)
	SELECT tenant_id, id, 0, 1, 'Policy text for ' || name ||
	       CASE WHEN class = 'policy' AND regexp_replace(name, '\D', '', 'g')::int % 5 = 0
	            THEN ' Contact jane.doe@example.com for questions.' ELSE ' No contact details.' END
	FROM documents WHERE class = 'policy'"
sqlq -c "VACUUM ANALYZE documents" -c "VACUUM ANALYZE chunks"
bench_check "documents in the table" "$(sqlq -c "SELECT count(*) FROM documents")" "$DOCS"
bench_check "objects in the store" "$(find "$work/store/$tenant" -type f | wc -l)" "$DOCS"

mkdir -p "$work/rules"
cat >"$work/rules/bench.yaml" <<'EOF'
rules:
  - name: contract-expiry
    kind: expiry
    classes: [contract]
    fields: [expires_on, expiry_dates]
    within: 90d
    steps: [90, 60, 30, 14, 7, 1]
  - name: invoice-fields
    kind: required_fields
    classes: [invoice]
    fields: [amounts, parties]
  - name: report-retention
    kind: retention
    classes: [report]
    keep: 1y
    action: flag
  - name: no-pii-in-policies
    kind: pii
    classes: [policy]
  - name: object-integrity
    kind: integrity
    sample: {period: 7d}
  - name: orphans
    kind: orphans
  - name: audit-chain
    kind: audit_chain
EOF
./platctl compliance validate --rules "$work/rules" >/dev/null 2>"$work/log" || bench_fail "the rules do not validate" "$work/log"

# The anchor: the same date and field checks, as one psql process, counted per rule.
scope="tenant_id = '$tenant' AND deleted_at IS NULL AND status = 'processed'"
nonempty() { echo "coalesce(jsonb_array_length(CASE WHEN jsonb_typeof(fields->'$1') = 'array' THEN fields->'$1' END), 0) > 0"; }
t0=$(date +%s.%N)
sqlq -c "SELECT count(*) FROM documents WHERE $scope AND class = 'contract'
		AND (fields->>'expires_on')::date <= current_date + 90" \
	-c "SELECT count(*) FROM documents WHERE $scope AND class = 'invoice'
		AND NOT ($(nonempty amounts) AND $(nonempty parties))" \
	-c "SELECT count(*) FROM documents WHERE tenant_id = '$tenant' AND deleted_at IS NULL AND class = 'report'
		AND created_at + interval '1 year' <= now()" >"$work/anchor"
t1=$(date +%s.%N)
bench_check "anchor results" "$(wc -l <"$work/anchor")" 3
read -r want_expiry want_required want_retention <<<"$(tr '\n' ' ' <"$work/anchor")"
want_pii=$((DOCS / 4 / 5))

run() { # N: one run, its summary in $work/runN.json, "seconds maxrss_kb" in $work/runN.time
	/usr/bin/time -f '%e %M' -o "$work/run$1.time" \
		./platctl compliance run --rules "$work/rules" -o json >"$work/run$1.json" 2>"$work/run$1.log" ||
		{ [ $? -eq 1 ] || bench_fail "compliance run $1 exited with an error" "$work/run$1.log"; }
}
opened() { jq -r --arg r "$2" '.rules[] | select(.name == $r) | .opened' "$work/run$1.json"; }
run 1
for r in contract-expiry invoice-fields report-retention no-pii-in-policies object-integrity orphans audit-chain; do
	err=$(jq -r --arg r "$r" '.rules[] | select(.name == $r) | .error // empty' "$work/run1.json")
	[ -z "$err" ] || bench_fail "rule $r failed: $err" "$work/run1.log"
done
bench_check "run 1: expiry findings" "$(opened 1 contract-expiry)" "$want_expiry"
bench_check "run 1: required-field findings" "$(opened 1 invoice-fields)" "$want_required"
bench_check "run 1: retention findings" "$(opened 1 report-retention)" "$want_retention"
bench_check "run 1: pii findings" "$(opened 1 no-pii-in-policies)" "$want_pii"
bench_check "run 1: integrity and orphan findings" "$(opened 1 object-integrity) $(opened 1 orphans)" "0 0"
run 2
bench_check "run 2: opened, resolved" "$(jq -r '"\(.opened) \(.resolved)"' "$work/run2.json")" "0 0"

anchor=$(echo "$t1 - $t0" | bc -l)
read -r s1 m1 <<<"$(tail -n 1 "$work/run1.time")" # time(1) may put "Command exited ..." first
read -r s2 m2 <<<"$(tail -n 1 "$work/run2.time")"
checked1=$(jq -r '.rules[] | select(.name == "object-integrity") | .checked' "$work/run1.json")
checked2=$(jq -r '.rules[] | select(.name == "object-integrity") | .checked' "$work/run2.json")
printf 'compliance over %d documents, 7 rules: anchor (plain SQL, 3 checks) %.2fs\n' "$DOCS" "$anchor"
printf '  run 1 (all new, integrity read %s objects): %.2fs -> %.1fx the anchor, peak memory %d MiB\n' \
	"$checked1" "$s1" "$(echo "$s1 / $anchor" | bc -l)" $((m1 / 1024))
printf '  run 2 (steady state, integrity read %s objects): %.2fs -> %.1fx the anchor, peak memory %d MiB\n' \
	"$checked2" "$s2" "$(echo "$s2 / $anchor" | bc -l)" $((m2 / 1024))
