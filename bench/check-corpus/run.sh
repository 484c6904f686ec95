#!/usr/bin/env bash
# `plinth check` next to checkov on public Terraform checked out outside this repository.
#
#   bench/check-corpus/run.sh DIR [DIR…]
#
# For each directory: the number of .tf files, plinth's and checkov's wall times, plinth's
# findings per rule family, checkov's failed checks, and the pairs of matching findings
# (compare.py: same file, a plinth rule that lists the checkov id, plinth's line inside
# checkov's resource range or within 3 lines of its start), from which recall against
# checkov and agreement can be read in the categories both cover.
#
# Env: PLINTH (default: target/release/plinth, built if missing), CHECKOV (default: checkov
# on PATH; e.g. a venv outside the repository: CHECKOV=/work/corpus/venv/bin/checkov),
# RUNS (plinth timing runs, best of; default 5), OUT (raw results; default bench/out/corpus).
# Nothing of the checked repositories is copied into this one.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [[ $# -eq 0 ]]; then
  sed -n '2,16p' "$0" >&2
  exit 64
fi
plinth="${PLINTH:-$root/target/release/plinth}"
if [[ ! -x "$plinth" ]]; then
  cargo build --release -p plinth-cli --manifest-path "$root/Cargo.toml" >&2
fi
checkov="${CHECKOV:-$(command -v checkov || true)}"
if [[ -z "$checkov" || ! -x "$checkov" ]]; then
  echo "checkov not found: pip install checkov into a venv and set CHECKOV=…/bin/checkov" >&2
  exit 1
fi
runs="${RUNS:-5}"
out="${OUT:-$root/bench/out/corpus}"
mkdir -p "$out"

now() { date +%s.%N; } # cheap next to a Python start-up, which would dwarf plinth's time

printf '%-28s %6s %10s %10s %8s  %s\n' repository files plinth_s checkov_s ratio figures
for dir in "$@"; do
  dir="$(cd "$dir" && pwd)"
  name="$(basename "$dir")"
  files="$(find "$dir" -name '*.tf' -not -path '*/.terraform/*' | wc -l)"
  best=""
  for _ in $(seq "$runs"); do
    t0=$(now)
    "$plinth" --color never check --no-engine --format sarif "$dir" >"$out/$name.sarif" || true
    t1=$(now)
    best=$(python3 -c "a=$t1-$t0; b='$best'; print(a if not b else min(a, float(b)))")
  done
  t0=$(now)
  # --skip-download: no calls to the vendor's API; terraform and secrets are what plinth reads.
  "$checkov" -d "$dir" --framework terraform secrets --quiet --compact --skip-download \
    -o json >"$out/$name.checkov.json" 2>"$out/$name.checkov.err" || true
  t1=$(now)
  ckv=$(python3 -c "print($t1-$t0)")
  figures="$(python3 "$root/bench/check-corpus/compare.py" "$name" "$out/$name.sarif" \
    "$out/$name.checkov.json" --details 2>"$out/$name.details.txt")"
  echo "$figures" >"$out/$name.figures.json"
  printf '%-28s %6s %10.3f %10.1f %7.0fx  %s\n' "$name" "$files" "$best" "$ckv" \
    "$(python3 -c "print($ckv/$best)")" "$figures"
done
