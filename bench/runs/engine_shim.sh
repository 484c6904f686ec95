#!/usr/bin/env bash
# Stands in for `terraform` (first on PATH) while plinth runs, to measure the time spent
# inside engine processes: appends "START END SUBCOMMAND" (seconds, from bash's
# EPOCHREALTIME, so the shim forks nothing but the engine) to $ENGINE_TIMES.
# The shim's own start-up falls outside the interval: it counts as plinth's overhead.
start=$EPOCHREALTIME
"$REAL_TERRAFORM" "$@"
rc=$?
end=$EPOCHREALTIME
echo "$start $end ${1:-}" >>"$ENGINE_TIMES"
exit $rc
