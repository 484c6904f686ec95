#!/usr/bin/env bash
# Pull-request benchmark: the real `plinth serve --config` (SQLite, its own state backend)
# against a stand-in GitHub and a real git repository of 40 terraform_data stacks.
#   1. a burst of 200 GitHub deliveries (octokit's payloads) for 20 pull requests from 8
#      concurrent senders: opens, two pushes each, `plinth help`/`plinth plan`/plain comments,
#      label events and redeliveries; p50/p99/max of the webhook answers;
#   2. the time until every pull request is idle with its plans at its last head, and the
#      engine's plans against the least that gives them (no instance planned twice for one
#      head, kept plans only where nothing moved);
#   3. on a pull request affecting all 40 stacks: a push touching one stack (smart re-plan)
#      against `plinth plan` of all 40 and a push touching all 40.
# Targets: 202 p99 < 50 ms during the burst; smart >= 10x faster than full. Exits non-zero
# when a target is missed or a plan is wrong.
#
# Usage: bench/pr/run.sh [pr_bench options: --prs 20 --clients 8 --workers 2 --rounds 3]
#   SHIM=0      no engine shim (engine processes are then not counted)
#   PROFILE=debug  unoptimised builds (harness check only; figures are meaningless)
# Writes bench/pr/results.md (release builds only); work files in bench/out/pr/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
profile="${PROFILE:-release}"
flag=()
[ "$profile" = release ] && flag=(--release)
export PLINTH_WEBHOOK_EXAMPLES="${PLINTH_WEBHOOK_EXAMPLES:-$root/.tools/npm/node_modules/@octokit/webhooks-examples}"
if [ ! -f "$PLINTH_WEBHOOK_EXAMPLES/api.github.com/index.json" ]; then
  echo "GitHub's payloads are missing ($PLINTH_WEBHOOK_EXAMPLES): run scripts/setup.sh" >&2
  exit 1
fi
command -v terraform >/dev/null || { echo "terraform must be on PATH" >&2; exit 1; }
cargo build "${flag[@]}" -p plinth-cli --bin plinth --example pr_bench
args=(--plinth "target/$profile/plinth" --out bench/out/pr)
[ "${SHIM:-1}" = 0 ] || args+=(--shim bench/pr/engine_shim.sh)
[ "$profile" = release ] && args+=(--results bench/pr/results.md)
exec "target/$profile/examples/pr_bench" "${args[@]}" "$@"
