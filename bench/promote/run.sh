#!/usr/bin/env bash
# Promotion benchmark: `plinth promote staging prod` on the generated 5,000-stack repository
# (4,572 stacks in prod, each promoted code a digest of its directory, local modules and
# shared var files), timed with hyperfine on a warm cache. Target: under 1 s.
#
# Usage: bench/promote/run.sh [STACKS]   (default 5000; env SEED=42, PLINTH=path)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
stacks="${1:-5000}"
seed="${SEED:-42}"
repo="$root/bench/out/discovery-repo-$stacks-seed$seed"
results="$root/bench/out/promote-$stacks.json"
cd "$root"

command -v hyperfine >/dev/null || {
  echo "hyperfine is missing: sudo apt-get install -y hyperfine" >&2
  exit 1
}
if [[ -z "${PLINTH:-}" ]]; then
  cargo build --release --locked -p plinth-cli
fi
plinth="${PLINTH:-$root/target/release/plinth}"
if [[ ! -f "$repo.generated" ]]; then
  python3 bench/gen_repo.py "$repo" --stacks "$stacks" --seed "$seed" --force
  touch "$repo.generated"
fi

# Fail here with plinth's own message rather than inside hyperfine.
"$plinth" -C "$repo" promote staging prod --json >"$root/bench/out/promote-$stacks.out.json"
python3 - "$root/bench/out/promote-$stacks.out.json" <<'PY'
import collections, json, sys
doc = json.load(open(sys.argv[1]))
rows = doc.get("stacks") or doc.get("instances") or []
print(f"promote staging prod: {len(rows)} stacks, by status:",
      dict(collections.Counter(r.get("status") for r in rows)), file=sys.stderr)
PY
hyperfine --warmup 2 --min-runs 10 --style basic --export-json "$results" \
  -n "plinth promote staging prod" "'$plinth' -C '$repo' promote staging prod --json >/dev/null" >&2
python3 - "$results" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
cpu = r["user"] + r["system"]
print(f"{'command':<30} {'mean':>8} {'min':>8} {'cpu':>8}  target")
print(f"{r['command']:<30} {r['mean']:7.3f}s {r['min']:7.3f}s {cpu:7.3f}s  < 1 s: {'met' if r['mean'] < 1 else 'MISSED'}")
sys.exit(0 if r["mean"] < 1 else 1)
PY
