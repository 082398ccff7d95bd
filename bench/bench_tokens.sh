#!/usr/bin/env bash
# Bearer-token verification cost per request, so the server can budget it: an API token
# (format, checksum, SHA-256, a cache hit), a local Ed25519 access token and an OIDC
# RS256 access token with its JWKS cached, each against a bare OpenSSL call on the same
# bytes (SHA-256 of the token; EVP_DigestVerify of the same signature), measured in the
# same run by the driver bench/bench_tokens.c. BENCH_TOKEN_CALLS sets the calls per round.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
CALLS=${BENCH_TOKEN_CALLS:-2000}
DRIVER=build/bench/bench-tokens
[ -x "$DRIVER" ] || bench_fail "$DRIVER is not built (make bench builds it)"

bench_scratch tokens
keys="$work/keys"
mkdir -m 0700 "$keys"
"$DRIVER" "$keys" "$CALLS" >"$work/out" 2>"$work/err" || bench_fail "the driver failed" "$work/err"
# Three rows, each with a ratio: the driver checked every call's result itself.
bench_check "rows measured" "$(grep -c 'x  bare' "$work/out")" 3 "$work/out"
cat "$work/out"
