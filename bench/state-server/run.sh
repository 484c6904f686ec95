#!/usr/bin/env bash
# State server benchmark: 16 concurrent clients doing LOCK/GET/POST/UNLOCK cycles with ~200 KB
# states against `plinth serve` on SQLite and on PostgreSQL, and Terraform's own `pg` backend
# SQL on the same PostgreSQL. Needs PostgreSQL server binaries (apt-get install -y postgresql).
#
#   bench/state-server/run.sh [--clients N] [--cycles N] [--state-kb N] [--targets sqlite,postgres,tf-pg]
#
# PROFILE=debug runs unoptimised builds (quick harness check only; figures are meaningless).
set -euo pipefail
cd "$(dirname "$0")/../.."
profile="${PROFILE:-release}"
flag=()
[ "$profile" = release ] && flag=(--release)
cargo build "${flag[@]}" -p plinth-cli --bin plinth
cargo build "${flag[@]}" -p plinth-server --example state_bench
exec "target/$profile/examples/state_bench" --plinth "target/$profile/plinth" "$@"
