#!/usr/bin/env bash
# Secret resolution benchmark: INSTANCES instances × 3 Vault secrets over 61 distinct KV v2
# paths, all asking at once, against a local OpenBao dev server (started and stopped by the
# harness). Targets: one request per distinct path per run (counted from OpenBao's audit
# log) and resolution under 100 ms on loopback. Exits non-zero when one is missed.
#
#   bench/secrets/run.sh [INSTANCES=200] [RUNS=5]
#
# PROFILE=debug runs an unoptimised build (harness check only; times are meaningless).
set -euo pipefail
cd "$(dirname "$0")/../.."
eval "$(bash scripts/setup.sh)" # puts OpenBao's `bao` on PATH
profile="${PROFILE:-release}"
flag=()
[ "$profile" = release ] && flag=(--release)
cargo build "${flag[@]}" -p plinth-secrets --features test-support --example secrets_bench
exec "target/$profile/examples/secrets_bench" "$@"
