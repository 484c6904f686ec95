#!/usr/bin/env bash
# Runs benchmark: an environment of 40 stacks (a foundation and 39 dependents consuming its
# outputs, terraform_data only). Times with hyperfine
#   (a) plinth apply dev -j 2 --auto-approve, from scratch (fresh copy, no .plinth/)
#   (b) a sequential shell loop of terraform init && terraform apply, same stacks and inputs
#   (c) a first plinth plan dev -j 2 of the applied environment on a fresh checkout (state
#       kept, no .plinth/work: every instance initialises)
#   (d) a second plinth plan dev -j 2 of the unchanged environment
# then runs (a), (c), (d) and a -j 1 apply once more with the engine wrapped by a shim that
# logs every engine process's start and end, and reports plinth's own overhead per instance:
# wall time minus the time during which an engine process was running.
#
# and (e) plinth env up of a copy of the ephemeral `preview` environment (all 40 stacks,
# applied whole), timed and instrumented the same way.
#
# Usage: bench/runs/run.sh [STACKS]   (default 40)
# Targets: overhead < 50 ms per instance; (d) at least 2x faster than (c).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
stacks="${1:-40}"
out="$root/bench/out/runs-$stacks"
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

cargo build --release --locked -p plinth-cli
plinth="$root/target/release/plinth"
real_tf="$(command -v terraform)"
echo "engine: $real_tf ($("$real_tf" version | head -1))" >&2

rm -rf "$out"
mkdir -p "$out/shim"
python3 bench/runs/gen_env.py "$out/template" --stacks "$stacks"
cp bench/runs/engine_shim.sh "$out/shim/terraform"

# The environment the plans run against: applied once, then planned once so that every
# instance's work directory exists (the warm state of (d)).
cp -r "$out/template" "$out/applied"
"$plinth" -C "$out/applied" -q apply dev -j 2 --auto-approve
"$plinth" -C "$out/applied" -q plan dev -j 2 --detailed-exitcode

fresh() { echo "rm -rf '$out/$1' && cp -r '$out/template' '$out/$1'"; }
checkout() {
  echo "rm -rf '$out/$1' && cp -r '$out/applied' '$out/$1' && rm -rf '$out/$1/.plinth/work' '$out/$1/.plinth/runs' '$out/$1/.plinth/plinth.db'"
}

hyperfine --runs 3 --style basic --export-json "$out/apply.json" \
  --prepare "$(fresh a)" -n "(a) plinth apply -j 2" \
  "'$plinth' -C '$out/a' -q apply dev -j 2 --auto-approve" \
  --prepare "$(fresh b)" -n "(b) shell loop init+apply" \
  "bench/runs/shell_loop.sh '$out/b'" >&2

cp -r "$out/applied" "$out/d"
# One warm-up: the first plan in the copy re-initialises (the backend path moved with the copy).
hyperfine --warmup 1 --runs 5 --style basic --export-json "$out/plan.json" \
  --prepare "$(checkout c)" -n "(c) first plinth plan -j 2" \
  "'$plinth' -C '$out/c' -q plan dev -j 2 --detailed-exitcode" \
  --prepare "true" -n "(d) unchanged re-plan -j 2" \
  "'$plinth' -C '$out/d' -q plan dev -j 2 --detailed-exitcode" >&2

# One instrumented run of each, with the engine shim first on PATH.
instrumented() {
  local name="$1"
  shift
  rm -f "$out/engine-$name.log"
  local t0 t1
  t0=$EPOCHREALTIME
  PATH="$out/shim:$PATH" REAL_TERRAFORM="$real_tf" ENGINE_TIMES="$out/engine-$name.log" \
    "$plinth" "$@"
  t1=$EPOCHREALTIME
  echo "$t0 $t1" >"$out/wall-$name"
}
eval "$(fresh i_apply2)"
instrumented apply-j2 -C "$out/i_apply2" -q apply dev -j 2 --auto-approve
eval "$(fresh i_apply1)"
instrumented apply-j1 -C "$out/i_apply1" -q apply dev -j 1 --auto-approve
eval "$(checkout i_plan)"
instrumented plan-first -C "$out/i_plan" -q plan dev -j 2 --detailed-exitcode
instrumented plan-again -C "$out/i_plan" -q plan dev -j 2 --detailed-exitcode
eval "$(fresh i_up)"
instrumented env-up -C "$out/i_up" -q env up pr-1 --from preview -j 2 --auto-approve

hyperfine --runs 3 --style basic --export-json "$out/up.json" \
  --prepare "$(fresh e)" -n "(e) plinth env up -j 2" \
  "'$plinth' -C '$out/e' -q env up pr-1 --from preview -j 2 --auto-approve" >&2

python3 - "$out" "$stacks" <<'PY'
import json
import sys

out, n = sys.argv[1], int(sys.argv[2])

def mean(file, name):
    for r in json.load(open(f"{out}/{file}"))["results"]:
        if r["command"] == name:
            return r["mean"], r["stddev"]
    raise KeyError(name)

a, a_sd = mean("apply.json", "(a) plinth apply -j 2")
b, b_sd = mean("apply.json", "(b) shell loop init+apply")
c, c_sd = mean("plan.json", "(c) first plinth plan -j 2")
d, d_sd = mean("plan.json", "(d) unchanged re-plan -j 2")
e, e_sd = mean("up.json", "(e) plinth env up -j 2")
print(f"{'command':<32} {'mean':>9} {'stddev':>8}")
for name, m, sd in [("(a) plinth apply -j 2", a, a_sd), ("(b) shell loop init+apply", b, b_sd),
                    ("(c) first plinth plan -j 2", c, c_sd), ("(d) unchanged re-plan -j 2", d, d_sd),
                    ("(e) plinth env up -j 2", e, e_sd)]:
    print(f"{name:<32} {m:8.2f}s {sd:7.2f}s")
print(f"shell loop / plinth apply: {b / a:.2f}x")
print(f"first plan / re-plan:      {c / d:.2f}x  (target >= 2x)")

def breakdown(name):
    t0, t1 = map(float, open(f"{out}/wall-{name}").read().split())
    spans, calls = [], {}
    for line in open(f"{out}/engine-{name}.log"):
        s, e, cmd = (line.split() + [""])[:3]
        spans.append((float(s), float(e)))
        calls[cmd] = calls.get(cmd, 0) + 1
    busy = 0.0
    end = t0
    for s, e in sorted(spans):
        s = max(s, end)
        if e > s:
            busy += e - s
            end = e
    total = sum(e - s for s, e in spans)
    wall = t1 - t0
    return wall, busy, total, calls

print()
print(f"instrumented runs (engine wrapped; {n} instances):")
print(f"{'run':<12} {'wall':>7} {'engine busy':>12} {'engine sum':>11} {'overhead/inst':>14}  engine calls")
ok = True
for name in ["apply-j2", "apply-j1", "plan-first", "plan-again", "env-up"]:
    wall, busy, total, calls = breakdown(name)
    # Overhead: the time no engine process was running, per instance.
    per = (wall - busy) / n * 1000
    if name.startswith("apply") or name == "env-up":
        ok &= per < 50
    shown = ", ".join(f"{k} {v}" for k, v in sorted(calls.items()))
    print(f"{name:<12} {wall:6.2f}s {busy:11.2f}s {total:10.2f}s {per:11.1f} ms  {shown}")
# The shim's own start-up (a bash process per engine call) lands in the overhead above.
import os, subprocess, time
env = dict(os.environ, REAL_TERRAFORM="true", ENGINE_TIMES=os.devnull)
t = time.perf_counter()
for _ in range(50):
    subprocess.run([f"{out}/shim/terraform"], env=env, check=True)
shim = (time.perf_counter() - t) / 50 * 1000
print(f"shim start-up: {shim:.1f} ms per engine call (4 calls per applied instance), included above")
print("target: overhead < 50 ms per instance:", "met" if ok else "MISSED")
ratio_ok = c / d >= 2
print("target: re-plan >= 2x faster than first plan:", "met" if ratio_ok else "MISSED")
sys.exit(0 if ok and ratio_ok else 1)
PY
