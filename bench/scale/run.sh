#!/usr/bin/env bash
# Scaling benchmark: `plinth ls --json`, `plinth graph prod --format json` and
# `plinth ls --changed` on generated repositories of 5,000, 20,000 and 50,000 stacks
# (bench/gen_repo.py), with wall time and peak memory (GNU time's maximum resident set),
# against the floor: reading every file of the repository with two parallel `cat`s.
#
# Usage: bench/scale/run.sh [SIZES…]   (default 5000 20000 50000; env RUNS=3, SEED=42,
#        PLINTH=path to measure an existing binary, OUT=dir for the repositories, default
#        /dev/shm when it exists: generating and deleting 200,000 files on a virtual disk
#        takes minutes)
# Prints one table row per size and command: best wall time of RUNS runs, its ratio to the
# parallel read, and the peak memory.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
sizes=("$@")
[[ ${#sizes[@]} -eq 0 ]] && sizes=(5000 20000 50000)
runs="${RUNS:-3}"
seed="${SEED:-42}"
out="${OUT:-}"
if [[ -z "$out" ]]; then
  if [[ -d /dev/shm ]]; then out=/dev/shm/plinth-bench; else out="$root/bench/out"; fi
fi
mkdir -p "$out"
[[ -x /usr/bin/time ]] || { echo "needs GNU time: apt-get install -y time" >&2; exit 1; }
if [[ -z "${PLINTH:-}" ]]; then
  cargo build --release --locked -p plinth-cli >&2
fi
plinth="${PLINTH:-$root/target/release/plinth}"

# best_of CMD…: prints "SECONDS MAX_RSS_KB" of the fastest of $runs runs.
best_of() {
  local best="" rss="" i line report
  report="$(mktemp)"
  for ((i = 0; i < runs; i++)); do
    /usr/bin/time -o "$report" -f '%e %M' "$@" >/dev/null 2>&1 || true
    line="$(tail -n1 "$report")"
    if [[ -z "$best" ]] || awk -v a="${line% *}" -v b="$best" 'BEGIN{exit !(a<b)}'; then
      best="${line% *}"
      rss="${line#* }"
    fi
  done
  rm -f "$report"
  echo "$best $rss"
}

printf '%-8s %-28s %9s %8s %10s\n' stacks command seconds "x read" "peak MB"
for n in "${sizes[@]}"; do
  repo="$out/scale-$n-seed$seed"
  if [[ ! -f "$repo.generated" ]]; then
    python3 bench/gen_repo.py "$repo" --stacks "$n" --seed "$seed" --force >&2
    # A git repository with one stack edited, for --changed.
    git -C "$repo" init -q -b main
    git -C "$repo" -c user.name=bench -c user.email=bench@example.invalid add -A
    git -C "$repo" -c user.name=bench -c user.email=bench@example.invalid commit -qm base
    first="$(find "$repo" -name stack.hcl -not -path '*/.plinth/*' -print -quit)"
    printf '\n# edited\n' >>"$first"
    touch "$repo.generated"
  fi
  read_cmd=(sh -c "find '$repo' -path '$repo/.git' -prune -o -path '$repo/.plinth' -prune -o -type f -print0 | xargs -0 -n 2000 -P 2 cat")
  read -r floor floor_rss < <(best_of "${read_cmd[@]}")
  printf '%-8s %-28s %9s %8s %10s\n' "$n" "2 x cat (floor)" "$floor" "1.00" "$((floor_rss / 1024))"
  for label in "ls --json" "graph prod --format json" "ls --changed=HEAD --json"; do
    # shellcheck disable=SC2086
    read -r t rss < <(best_of "$plinth" -C "$repo" $label)
    ratio="$(awk -v a="$t" -v b="$floor" 'BEGIN{printf "%.2f", (b > 0 ? a / b : 0)}')"
    printf '%-8s %-28s %9s %8s %10s\n' "$n" "$label" "$t" "$ratio" "$((rss / 1024))"
  done
done
