#!/usr/bin/env bash
# Discovery benchmark: on a generated 5,000-stack repository, times
#   plinth ls --json
#   plinth graph prod --format json
#   cat of every file of the repository (the floor: reading the bytes)
# with hyperfine on a warm cache, and prints a table with each command's ratio
# to cat and the targets (under 1 s each, within 3x of cat).
#
# Usage: bench/discovery/run.sh [STACKS]   (default 5000; env SEED=42,
#        PLINTH=path to measure an existing binary instead of building)
# The repository is generated once into bench/out/ and reused.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
stacks="${1:-5000}"
seed="${SEED:-42}"
repo="$root/bench/out/discovery-repo-$stacks-seed$seed"
results="$root/bench/out/discovery-$stacks.json"
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

# PLINTH=path/to/plinth measures that binary instead of building one.
if [[ -z "${PLINTH:-}" ]]; then
  cargo build --release --locked -p plinth-cli
fi
plinth="${PLINTH:-$root/target/release/plinth}"

# Generation takes seconds; the marker makes an interrupted run regenerate.
if [[ ! -f "$repo.generated" ]]; then
  python3 bench/gen_repo.py "$repo" --stacks "$stacks" --seed "$seed" --force
  touch "$repo.generated"
fi
files="$(find "$repo" -path "$repo/.plinth" -prune -o -type f -print | wc -l)"
echo "repository: $repo ($stacks stacks, $files files)" >&2

# Fail here, with plinth's own message, rather than inside hyperfine.
"$plinth" -C "$repo" ls --json >/dev/null
"$plinth" -C "$repo" graph prod --format json >/dev/null

cat_cmd="find '$repo' -path '$repo/.plinth' -prune -o -type f -print0 | xargs -0 cat >/dev/null"
hyperfine --warmup 3 --min-runs 10 --style basic --export-json "$results" \
  -n "plinth ls --json" "'$plinth' -C '$repo' ls --json" \
  -n "plinth graph prod --format json" "'$plinth' -C '$repo' graph prod --format json" \
  -n "cat all files" "$cat_cmd" >&2

python3 - "$results" <<'PY'
import json
import sys

results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
floor = results["cat all files"]["mean"]
# CPU time (user + system) is printed too: unlike wall time it barely moves
# when other work shares the machine.
print(f"{'command':<34} {'mean':>9} {'stddev':>9} {'cpu':>9} {'x cat':>6}  target")
ok = True
for name, r in results.items():
    ratio = r["mean"] / floor
    if name == "cat all files":
        verdict = "(floor)"
    else:
        met = r["mean"] < 1.0 and ratio <= 3.0
        ok &= met
        verdict = ("met" if met else "MISSED") + " (< 1 s, <= 3x cat)"
    cpu = r["user"] + r["system"]
    print(f"{name:<34} {r['mean'] * 1000:7.1f}ms {r['stddev'] * 1000:7.1f}ms {cpu * 1000:7.1f}ms {ratio:6.2f}  {verdict}")
sys.exit(0 if ok else 1)
PY
