#!/usr/bin/env bash
# Dashboard benchmark: the overview page of the 5,000-stack repository (bench/gen_repo.py,
# five environments) with a history of 20,000 runs recorded through the store API; p50/p99 of
# the whole request (session lookup, queries, rendering, transfer on loopback) and the page's
# weight. Target: overview p99 < 200 ms.
#
#   bench/dashboard/run.sh [STACKS] [RUNS]
#
# The store is built once into bench/out/dashboard-STACKS-RUNS/ (delete it to rebuild).
# PROFILE=debug runs unoptimised builds (harness check only; figures are meaningless).
set -euo pipefail
cd "$(dirname "$0")/../.."
stacks="${1:-5000}"
runs="${2:-20000}"
profile="${PROFILE:-release}"
flag=()
[ "$profile" = release ] && flag=(--release)
out="bench/out"
repo="$out/discovery-repo-$stacks-seed42"
data="$out/dashboard-$stacks-$runs"
mkdir -p "$out" "$data"
cargo build "${flag[@]}" -p plinth-cli --bin plinth
cargo build "${flag[@]}" -p plinth-web --example dashboard_bench
[ -f "$repo/plinth.hcl" ] || python3 bench/gen_repo.py "$repo" --stacks "$stacks" --seed 42 >&2
[ -s "$data/instances.json" ] || "target/$profile/plinth" -C "$repo" ls --json >"$data/instances.json"
exec "target/$profile/examples/dashboard_bench" --instances "$data/instances.json" \
  --runs "$runs" --db-dir "$data"
