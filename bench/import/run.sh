#!/usr/bin/env bash
# Import benchmark: on a generated Terragrunt tree of 1,000 units (10 environments), times
#   plinth import terragrunt --dry-run   (read, evaluate, convert, check every file it would write)
#   plinth import terragrunt             (the same, writing 2,000 files into a fresh copy)
# with hyperfine on a warm cache, and prints a table against the target (under 2 s each).
#
# Usage: bench/import/run.sh [UNITS]   (default 1000; PLINTH=path to measure an existing binary)
# The tree is generated once into bench/out/ and reused; each timed write gets a fresh copy
# (made by hyperfine's --prepare, outside the timing, then synced: otherwise the copy's
# writeback lands on the timed run).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
units="${1:-1000}"
tree="$root/bench/out/import-terragrunt-$units"
copy="$root/bench/out/import-terragrunt-$units-copy"
results="$root/bench/out/import-$units.json"
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
  cargo build --release --locked -p plinth-cli
fi
plinth="${PLINTH:-$root/target/release/plinth}"

if [[ ! -f "$tree.generated" ]]; then
  python3 bench/import/gen_terragrunt.py "$tree" --units "$units" --force
  touch "$tree.generated"
fi
echo "tree: $tree ($(find "$tree" -name terragrunt.hcl | wc -l) units)" >&2

# Fail here, with plinth's own message, rather than inside hyperfine; and check the result.
rm -rf "$copy" && cp -r "$tree" "$copy"
"$plinth" import terragrunt "$copy" >/dev/null
"$plinth" -C "$copy" ls --json >/dev/null
written="$(find "$copy" -name stack.hcl | wc -l)"
[[ "$written" -eq "$units" ]] || { echo "expected $units stack.hcl files, found $written" >&2; exit 1; }

hyperfine --warmup 2 --min-runs 10 --style basic --export-json "$results" \
  -n "import terragrunt --dry-run" "'$plinth' import terragrunt '$tree' --dry-run >/dev/null" \
  --prepare "rm -rf '$copy' && cp -r '$tree' '$copy' && sync" \
  -n "import terragrunt (writes)" "'$plinth' import terragrunt '$copy' >/dev/null" >&2

python3 - "$results" <<'PY'
import json
import sys

results = json.load(open(sys.argv[1]))["results"]
print(f"{'command':<30} {'mean':>9} {'stddev':>9} {'cpu':>9}  target")
ok = True
for r in results:
    met = r["mean"] < 2.0
    ok &= met
    cpu = r["user"] + r["system"]
    print(f"{r['command']:<30} {r['mean'] * 1000:7.1f}ms {r['stddev'] * 1000:7.1f}ms {cpu * 1000:7.1f}ms  {'met' if met else 'MISSED'} (< 2 s)")
sys.exit(0 if ok else 1)
PY
