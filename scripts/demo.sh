#!/usr/bin/env bash
# make demo: the main job end to end on the embedded default, on one machine.
# The dev stack (PostgreSQL + pgvector, local storage, the PostgreSQL queue, the builtin AI
# provider: nothing leaves the machine), the sample documents in etc/samples uploaded and
# processed, then a search and two questions answered with page citations. Re-running it
# is safe: the uploads come back "unchanged" and nothing is processed twice.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
	step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
else
	step() { printf '\n==> %s\n' "$*"; }
fi
start=$SECONDS

step "platctl version"
./platctl version
step "platctl dev up   (a private PostgreSQL + pgvector on 127.0.0.1, migrated)"
./platctl dev up
step "platctl upload etc/samples/* --tag source=samples   (contracts, policies, a report, a PDF handbook)"
./platctl upload etc/samples/* --tag source=samples
step "platctl consume --once -c 2   (extract, chunk, classify, summarise, extract fields, embed)"
./platctl consume --once -c 2
step "platctl documents list --tag source=samples"
./platctl documents list --tag source=samples
step "platctl search how can the services agreement be terminated -k 3"
./platctl search how can the services agreement be terminated -k 3
step "platctl ask \"How can the master services agreement be terminated?\""
./platctl ask "How can the master services agreement be terminated?"
step "platctl ask \"How many days of paid holiday do employees get?\""
./platctl ask "How many days of paid holiday do employees get?"
step "platctl ask \"Who won the 2014 football world cup?\"   (not in the documents: refused, exit 1)"
if ./platctl ask "Who won the 2014 football world cup?"; then
	echo "demo: expected a refusal" >&2
	exit 1
fi
printf '\nDemo finished in %d s. The dev stack keeps running (./platctl dev env prints its settings);\n' $((SECONDS - start))
printf 'stop it with: ./platctl dev down   (add --purge to delete it)\n'
