#!/usr/bin/env bash
# Installs everything platctl's build, tests and demo need on Debian 12.
# Idempotent: every step checks before it acts, so re-running is cheap and safe.
# Runs non-interactively (CI has no stdin). Needs root for apt and for installing pgvector.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

log() { printf 'deps: %s\n' "$*" >&2; }

ROOT=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)

# One list: build, unit/cli tests, services for tests, docs, demo, benchmarks
# (python3.11-doc, r-doc-pdf and docbook-xsl-doc-pdf are the public corpora, HTML and PDF,
# that bench/bench_eval.sh measures retrieval on and bench/bench_ingest.sh ingests; wrk and
# the FastAPI reference's packages are for bench/bench_serve.sh; prometheus for its promtool,
# which checks serve's /metrics in tests/cli/api.bats).
PACKAGES=(
	build-essential pkg-config git ca-certificates clang libclang-rt-14-dev
	libyaml-dev libcjson-dev libssl-dev libpq-dev libcurl4-openssl-dev libxml2-dev
	libcjose-dev libjansson-dev libargon2-dev libmicrohttpd-dev libwslay-dev
	libmagic-dev libpoppler-glib-dev libzip-dev librdkafka-dev libseccomp-dev
	libcmocka-dev bats scdoc zsh fish
	postgresql-15 postgresql-client-15 postgresql-server-dev-15 dpkg-dev
	util-linux procps python3 time bc jq
	nodejs npm awscli curl kcat poppler-utils python3.11-doc nginx-light
	r-doc-pdf docbook-xsl-doc-pdf python3-yaml python3-aiosmtpd openssl
	wrk python3-fastapi python3-uvicorn python3-asyncpg python3-uvloop python3-httptools prometheus
)

# systemd-analyze, for tests/cli/jobs.bats (verify the units); a container without systemd
# as PID 1 still runs it offline.
command -v systemd-analyze >/dev/null || PACKAGES+=(systemd)

SUDO=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { log "must run as root (or have sudo)"; exit 1; }
	SUDO=sudo
fi

# A package is present when it is installed, or when an installed package provides it
# (NodeSource's nodejs provides npm and conflicts with Debian's: asking apt for npm then fails).
provided=$(dpkg-query -W -f='${Status}\t${Provides}\n' 2>/dev/null |
	awk -F'\t' '$1 ~ / installed$/ { print $2 }' | tr ',' '\n' | sed 's/([^)]*)//; s/:any//; s/ //g' | sort -u)
missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		grep -qxF "$p" <<<"$provided" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	log "installing: ${missing[*]}"
	$SUDO apt-get update -q
	$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
	# nginx is for tests/services/nginx.sh, which runs its own on 127.0.0.1: not a system
	# service listening on port 80.
	if [[ " ${missing[*]} " == *" nginx-light "* ]] && command -v systemctl >/dev/null; then
		$SUDO systemctl disable --now nginx >/dev/null 2>&1 || true
	fi
	# Likewise prometheus: only its promtool is used.
	if [[ " ${missing[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null; then
		$SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
	fi
else
	log "debian packages present"
fi

# The S3 test service's node packages (tests/services/s3), exactly as its lock file says:
# installed again whenever the lock file is newer than the last install.
S3_APP=$ROOT/tests/services/s3
if [ ! -f "$S3_APP/node_modules/.package-lock.json" ] ||
	[ "$S3_APP/package-lock.json" -nt "$S3_APP/node_modules/.package-lock.json" ]; then
	log "installing the S3 test service's node packages"
	npm ci --prefix "$S3_APP" --no-audit --no-fund --no-update-notifier --loglevel=error </dev/null >&2
else
	log "S3 test service node packages present"
fi

# Swagger UI for platctl serve's /docs (web/docs), likewise from its lock file.
DOCS_APP=$ROOT/web/docs
if [ ! -f "$DOCS_APP/node_modules/.package-lock.json" ] ||
	[ "$DOCS_APP/package-lock.json" -nt "$DOCS_APP/node_modules/.package-lock.json" ]; then
	log "installing Swagger UI (web/docs)"
	npm ci --prefix "$DOCS_APP" --no-audit --no-fund --no-update-notifier --loglevel=error </dev/null >&2
else
	log "Swagger UI present"
fi

# @redocly/cli and newman for tests/cli/api.bats (tests/api), likewise.
API_TOOLS=$ROOT/tests/api
if [ ! -f "$API_TOOLS/node_modules/.package-lock.json" ] ||
	[ "$API_TOOLS/package-lock.json" -nt "$API_TOOLS/node_modules/.package-lock.json" ]; then
	log "installing the API test tools (tests/api)"
	npm ci --prefix "$API_TOOLS" --no-audit --no-fund --no-update-notifier --loglevel=error </dev/null >&2
else
	log "API test tools present"
fi

PG_BIN=/usr/lib/postgresql/15/bin
PG_CONFIG=$PG_BIN/pg_config

# pgvector: present when the extension's control file is in the server's share dir.
# (A live CREATE EXTENSION check needs a running server; the control file is what it reads.)
sharedir=$("$PG_CONFIG" --sharedir)
if [ -f "$sharedir/extension/vector.control" ]; then
	log "pgvector present"
	exit 0
fi

# Debian 12 has no pgvector package; the next suite does. Fetch Debian's own source package
# through a private apt configuration so the machine's apt sources and lists stay untouched.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/sources.list.d" "$work/lists/partial" "$work/cache/archives/partial" "$work/src"
echo "deb-src http://deb.debian.org/debian trixie main" >"$work/sources.list.d/next.list"
APT_PRIVATE=(
	-o "Dir::Etc::SourceList=/dev/null"
	-o "Dir::Etc::SourceParts=$work/sources.list.d"
	-o "Dir::State::Lists=$work/lists"
	-o "Dir::Cache=$work/cache"
)
log "fetching pgvector source package"
apt-get "${APT_PRIVATE[@]}" update -q >&2
# apt-get source drops privileges to _apt when it can; a world-writable dir keeps that working.
chmod 0777 "$work/src"
(cd "$work/src" && apt-get "${APT_PRIVATE[@]}" source -q --download-only pgvector >&2)
dsc=$(ls "$work"/src/pgvector_*.dsc | head -n1)
(cd "$work/src" && dpkg-source -x "$dsc" pgvector >&2)

log "building pgvector against PostgreSQL 15"
# OPTFLAGS= drops -march=native so the build is portable to the machine it is copied to.
make -C "$work/src/pgvector" PG_CONFIG="$PG_CONFIG" OPTFLAGS= -j"$(nproc)" >&2
$SUDO make -C "$work/src/pgvector" PG_CONFIG="$PG_CONFIG" OPTFLAGS= install >&2
log "pgvector installed"
