#!/usr/bin/env bash
# make demo: the main job on the embedded default, on one machine.
# Foundation stage: shows what the binary offers and the configuration it would use.
# Later stages extend this script step by step (dev stack, upload, consume, search, ask).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "platctl help"
./platctl help
step "platctl version"
./platctl version
step "platctl config show"
./platctl config show
step "platctl config validate"
./platctl config validate
