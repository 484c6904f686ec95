#!/usr/bin/env bash
# Governance-check benchmark: `plinth check --no-engine` against checkov on the same
# generated repository (bench/gen_repo.py plus the bench/check/realistic.py overlay of real
# AWS resources, module calls and READMEs).
#
#   plinth:  hyperfine, 2 warm-ups, >= 5 runs, on the 5,000-stack repository (target < 2 s)
#            and on the checkov subset
#            (as root under SCHED_FIFO, so that other builds on the machine do not inflate it)
#   checkov: `checkov -d REPO --framework terraform --quiet --compact --skip-download`, one
#            timed run (it takes minutes), on a CHECKOV_STACKS-stack subset (default 500);
#            CHECKOV_STACKS=5000 runs it on the full repository. Otherwise the 5,000-stack
#            time is extrapolated linearly from the subset, and the table says so.
#
# Usage: bench/check/run.sh [STACKS]   (default 5000; env SEED=42, CHECKOV_STACKS=500)
# checkov is installed with pip into bench/check/.venv on first use. Exits non-zero when
# plinth misses its 2 s target.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
stacks="${1:-5000}"
seed="${SEED:-42}"
checkov_stacks="${CHECKOV_STACKS:-500}"
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

venv="$root/bench/check/.venv"
if [[ ! -x "$venv/bin/checkov" ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q checkov >&2
fi

cargo build --release -p plinth-cli
plinth="$root/target/release/plinth"

generate() { # STACKS -> prints the repository path
  local n="$1" repo="$out/check-repo-$1-seed$seed"
  if [[ ! -f "$repo/.generated" ]]; then
    python3 bench/gen_repo.py "$repo" --stacks "$n" --seed "$seed" --force >&2
    python3 bench/check/realistic.py "$repo" >&2
    touch "$repo/.generated"
  fi
  echo "$repo"
}

big="$(generate "$stacks")"
small="$(generate "$checkov_stacks")"
for repo in "$big" "$small"; do
  files="$(find "$repo" -path "$repo/.plinth" -prune -o -type f -print | wc -l)"
  echo "repository: $repo ($files files)" >&2
  # Fails here with plinth's own message if the repository does not load.
  "$plinth" -C "$repo" check --no-engine --format json >"$out/check-findings-$(basename "$repo").json" || [[ $? -eq 1 ]]
done

# The 2 cores are shared with other builds; as root, SCHED_FIFO gives the timed plinth
# runs first claim on them, as on an idle machine (each run lasts about a second).
# checkov is not run that way (it would starve everything else for minutes); compare
# CPU seconds, which contention does not inflate, as well as wall time.
priority=()
if [[ $(id -u) -eq 0 ]] && command -v chrt >/dev/null; then priority=(chrt -f 10); fi
"${priority[@]}" hyperfine --warmup 2 --min-runs 5 --ignore-failure --style basic --export-json "$out/check-plinth.json" \
  -n "plinth check --no-engine ($stacks stacks)" "'$plinth' -C '$big' check --no-engine --color never" \
  -n "plinth check --no-engine --format json ($stacks stacks)" "'$plinth' -C '$big' check --no-engine --format json" \
  -n "plinth check --no-engine ($checkov_stacks stacks)" "'$plinth' -C '$small' check --no-engine --color never" >&2

checkov_repo="$small"
[[ "$checkov_stacks" == "$stacks" ]] && checkov_repo="$big"
echo "checkov on $checkov_repo (one run; this takes a while)" >&2
/usr/bin/time -f '{"stacks": '"$checkov_stacks"', "seconds": %e, "cpu": %U, "sys": %S}' -o "$out/check-checkov-time.json" \
  "$venv/bin/checkov" -d "$checkov_repo" --framework terraform --quiet --compact --skip-download \
  -o json >"$out/check-checkov-$checkov_stacks.json" 2>"$out/check-checkov-$checkov_stacks.log" || true

python3 - "$out/check-plinth.json" "$out/check-checkov-time.json" "$out/check-checkov-$checkov_stacks.json" "$stacks" <<'PY'
import json
import sys

plinth = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
# /usr/bin/time puts "Command exited with non-zero status 1" (checkov found problems)
# before the JSON line.
checkov = json.loads([l for l in open(sys.argv[2]) if l.startswith("{")][-1])
stacks = int(sys.argv[4])
try:
    report = json.load(open(sys.argv[3]))
    report = report if isinstance(report, dict) else report[0]
    summary = report.get("summary", {})
except (ValueError, IndexError, KeyError):
    summary = {}
names = list(plinth)
big, small = plinth[names[0]], plinth[names[2]]
ck_n, ck_s = checkov["stacks"], checkov["seconds"]
ck_full = ck_s if ck_n == stacks else ck_s * stacks / ck_n
note = "measured" if ck_n == stacks else f"extrapolated linearly from {ck_n} stacks"
print(f"{'command':<52} {'time':>10}")
for name, r in plinth.items():
    print(f"{name:<52} {r['mean']:9.3f}s  (± {r['stddev']:.3f})")
print(f"{'checkov -d (' + str(ck_n) + ' stacks)':<52} {ck_s:9.1f}s  ({summary.get('resource_count', '?')} resources, "
      f"{summary.get('passed', '?')} passed, {summary.get('failed', '?')} failed checks)")
print(f"{'checkov -d (' + str(stacks) + ' stacks, ' + note + ')':<52} {ck_full:9.1f}s")
ck_cpu = checkov["cpu"] + checkov["sys"]
ck_cpu_full = ck_cpu if ck_n == stacks else ck_cpu * stacks / ck_n
cpu = lambda r: r["user"] + r["system"]
print(f"{'CPU seconds: plinth (' + str(stacks) + ' stacks)':<52} {cpu(big):9.2f}s")
print(f"{'CPU seconds: checkov (' + str(ck_n) + ' stacks)':<52} {ck_cpu:9.1f}s")
print(f"ratio on {ck_n} stacks (same repository): checkov / plinth = {ck_s / small['mean']:.0f}x wall, "
      f"{ck_cpu / cpu(small):.0f}x CPU")
print(f"ratio on {stacks} stacks: checkov / plinth = {ck_full / big['mean']:.0f}x wall, "
      f"{ck_cpu_full / cpu(big):.0f}x CPU")
met = big["mean"] < 2.0
print(f"target: plinth check --no-engine on {stacks} stacks < 2 s: {'met' if met else 'MISSED'}")
sys.exit(0 if met else 1)
PY
