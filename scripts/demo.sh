#!/usr/bin/env bash
# make demo: the main job on the embedded default, on one machine.
# Today: the dev stack (PostgreSQL + pgvector, local storage), migrated, and the
# configuration it leaves behind. Later stages extend this script (upload, consume,
# search, ask) as those commands land.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
	step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
else
	step() { printf '\n==> %s\n' "$*"; }
fi

step "platctl version"
./platctl version
step "platctl dev up   (a private PostgreSQL + pgvector on 127.0.0.1, migrated)"
./platctl dev up
step "platctl migrate status   (uses the dev profile dev up made the default)"
./platctl migrate status
step "platctl config show"
./platctl config show
step "platctl dev env   (for other shells: eval \"\$(platctl dev env)\")"
./platctl dev env
printf '\nThe dev stack keeps running; stop it with: ./platctl dev down   (add --purge to delete it)\n'
