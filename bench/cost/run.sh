#!/usr/bin/env bash
# Cost benchmark: `plinth cost prod` from code on the 5,000-stack realistic repository
# (bench/gen_repo.py plus the bench/check/realistic.py overlay of real AWS resources and
# module calls), text and JSON output. Target: under 2 s.
#
#   hyperfine, 2 warm-ups, >= 5 runs (as root under SCHED_FIFO, so that other builds on the
#   machine do not inflate it; CPU time is printed too, which contention does not inflate)
#
# Usage: bench/cost/run.sh [STACKS]   (default 5000; env SEED=42; PLINTH=path measures an
# existing binary instead of building one). Raw results go to bench/out/cost-*.json. Exits
# non-zero when the target is missed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
stacks="${1:-5000}"
seed="${SEED:-42}"
out="$root/bench/out"
mkdir -p "$out"
cd "$root"

if ! command -v hyperfine >/dev/null; then
  if [[ $(id -u) -eq 0 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine >&2 ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine >&2; }
  else
    echo "hyperfine is missing: sudo apt-get install -y hyperfine" >&2
    exit 1
  fi
fi

if [[ -z "${PLINTH:-}" ]]; then
  cargo build --release -p plinth-cli
  plinth="$root/target/release/plinth"
else
  plinth="$PLINTH"
fi

# The same repository as bench/check (shared when that harness already made it).
repo="$out/check-repo-$stacks-seed$seed"
if [[ ! -f "$repo/.generated" ]]; then
  python3 bench/gen_repo.py "$repo" --stacks "$stacks" --seed "$seed" --force >&2
  python3 bench/check/realistic.py "$repo" >&2
  touch "$repo/.generated"
fi
files="$(find "$repo" -path "$repo/.plinth" -prune -o -type f -print | wc -l)"
echo "repository: $repo ($files files)" >&2

# Fails here with plinth's own message if the repository does not load.
"$plinth" -C "$repo" cost prod --format json >"$out/cost-prod-$stacks.json"

priority=()
if [[ $(id -u) -eq 0 ]] && command -v chrt >/dev/null; then priority=(chrt -f 10); fi
"${priority[@]}" hyperfine --warmup 2 --min-runs 5 --style basic --export-json "$out/cost-plinth.json" \
  -n "plinth cost prod ($stacks stacks)" "'$plinth' -C '$repo' cost prod --color never >/dev/null" \
  -n "plinth cost prod --format json ($stacks stacks)" "'$plinth' -C '$repo' cost prod --format json >/dev/null" >&2

python3 - "$out/cost-plinth.json" "$out/cost-prod-$stacks.json" "$stacks" <<'PY'
import json
import sys

runs = json.load(open(sys.argv[1]))["results"]
doc = json.load(open(sys.argv[2]))
stacks = int(sys.argv[3])
resources = sum(len(i["resources"]) for i in doc["instances"])
by_status = {}
for i in doc["instances"]:
    for r in i["resources"]:
        by_status[r["status"]] = by_status.get(r["status"], 0) + 1
print(f"prod: {len(doc['instances'])} instances, {resources} resources "
      f"({', '.join(f'{n} {s}' for s, n in sorted(by_status.items()))}), "
      f"${doc['monthly']:,.2f}/month, prices read {doc['prices'][0]['date']}")
print(f"{'command':<52} {'mean':>10} {'min':>8} {'cpu':>8}")
for r in runs:
    cpu = r["user"] + r["system"]
    print(f"{r['command']:<52} {r['mean']:9.3f}s {min(r['times']):7.3f}s {cpu:7.2f}s  (± {r['stddev']:.3f})")
met = all(r["mean"] < 2.0 for r in runs)
print(f"target: plinth cost prod on {stacks} stacks < 2 s: {'met' if met else 'MISSED'}")
sys.exit(0 if met else 1)
PY
