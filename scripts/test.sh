#!/usr/bin/env bash
# The README's test command (and CI's): sets the machine up, checks the
# example repository with terraform, then runs every test of the workspace.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

eval "$(bash scripts/setup.sh)"
# GitHub's real webhook payloads (installed by setup.sh) for plinth-forge's tests.
export PLINTH_WEBHOOK_EXAMPLES="$root/.tools/npm/node_modules/@octokit/webhooks-examples"

bash scripts/check-examples.sh

if cargo nextest --version >/dev/null 2>&1; then
  # nextest does not run doctests; they go first so that nextest's summary is
  # the run's closing line.
  cargo test --workspace --locked --doc
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast
fi
