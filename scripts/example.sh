#!/usr/bin/env bash
# The README's main command: sets the machine up, builds plinth and applies
# the example repository's dev environment from scratch, then prints the
# summary. Extra arguments go to `plinth apply` (e.g. --json).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

eval "$(bash scripts/setup.sh)"

cargo build --release --locked -p plinth-cli
status=0
target/release/plinth -C examples apply dev --auto-approve "$@" || status=$?

cat >&2 <<'NEXT'

What to try next (from the repository root):
  target/release/plinth -C examples ls                  every instance, with its last run
  target/release/plinth -C examples graph prod          prod's dependency graph, layer by layer
  target/release/plinth -C examples output dev          the outputs dev's stacks published
  target/release/plinth -C examples plan staging        a saved plan (apply it with --plan RUN)
  target/release/plinth -C examples show RUN            what that plan changes, as terraform renders it
  target/release/plinth -C examples check               governance checks on the code
  target/release/plinth -C examples env up demo --from test --auto-approve
                                                        an ephemeral copy of the test environment
The documentation is in docs/ (start with docs/README.md).
NEXT
exit "$status"
