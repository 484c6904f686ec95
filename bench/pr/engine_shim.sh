#!/usr/bin/env bash
# Stands in for `terraform` (first on the server's PATH) during the pull-request benchmark:
# appends "START END SUBCOMMAND CWD" (seconds from bash's EPOCHREALTIME; the shim forks
# nothing but the engine) to $ENGINE_LOG, so the harness can count engine processes per head
# commit and instance (the server runs each in the stack's directory of the head's worktree)
# and tell engine time from the server's own.
start=$EPOCHREALTIME
"$REAL_TERRAFORM" "$@"
rc=$?
end=$EPOCHREALTIME
echo "$start $end ${1:-} $PWD" >>"$ENGINE_LOG"
exit $rc
