#!/usr/bin/env bash
# The README's main command: sets the machine up, builds plinth and applies
# the example repository's dev environment from scratch, then prints the
# summary. Extra arguments go to `plinth apply` (e.g. --json).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

eval "$(bash scripts/setup.sh)"

cargo build --release --locked -p plinth-cli
exec target/release/plinth -C examples apply dev --auto-approve "$@"
