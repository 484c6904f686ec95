#!/usr/bin/env bash
# The README's test command (and CI's): sets the machine up, checks the
# example repository with terraform, then runs every test of the workspace.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

eval "$(bash scripts/setup.sh)"

bash scripts/check-examples.sh

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
  # nextest does not run doctests.
  cargo test --workspace --locked --doc
else
  cargo test --workspace --locked --no-fail-fast
fi
