#!/usr/bin/env bash
# Checks the example repository with the real terraform binary: formatting
# (including stack.hcl and plinth.hcl), `init -backend=false` + `validate` in
# every stack and module, and the conventions the governance checks enforce.
# Usage: scripts/check-examples.sh [EXAMPLES_DIR]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
examples="$(cd "${1:-$root/examples}" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

echo "== terraform fmt -check -recursive $examples"
terraform fmt -check -recursive "$examples" || fail "terraform fmt"

# terraform fmt only accepts .tf/.tfvars names, but its formatter is plain
# HCL, so the plinth files are checked under a .tf name.
while IFS= read -r -d '' hcl; do
  copy="$work/fmt/${hcl#"$examples"/}.tf"
  mkdir -p "$(dirname "$copy")"
  cp "$hcl" "$copy"
  terraform fmt -check "$copy" >/dev/null || fail "not in terraform fmt style: ${hcl#"$examples"/}"
done < <(find "$examples" \( -name stack.hcl -o -name plinth.hcl \) -not -path '*/.plinth/*' -print0)

stacks=0
while IFS= read -r -d '' dir; do
  rel="${dir#"$examples"/}"
  [[ -f "$dir/README.md" ]] || fail "$rel: no README.md"
  grep -q 'required_version *= *">= 1.6"' "$dir"/*.tf || fail "$rel: no required_version"
  if [[ -f "$dir/stack.hcl" ]]; then
    stacks=$((stacks + 1))
    # Every key of the stack's `inputs` must be a variable it declares.
    for key in $(sed -n '/^inputs = {/,/^}/p' "$dir/stack.hcl" | sed -nE 's/^ +([A-Za-z_][A-Za-z0-9_]*) *=.*/\1/p'); do
      grep -q "^variable \"$key\"" "$dir"/*.tf || fail "$rel: input \"$key\" is not a declared variable"
    done
  fi
  data_dir="$work/tf/${rel//\//_}"
  if ! TF_DATA_DIR="$data_dir" terraform -chdir="$dir" init -backend=false -input=false -no-color >"$work/init.log" 2>&1; then
    cat "$work/init.log" >&2
    fail "$rel: terraform init"
    continue
  fi
  if TF_DATA_DIR="$data_dir" terraform -chdir="$dir" validate -no-color >"$work/validate.log" 2>&1; then
    echo "ok   $rel"
  else
    cat "$work/validate.log" >&2
    fail "$rel: terraform validate"
  fi
done < <(find "$examples" -name '*.tf' -not -path '*/.terraform/*' -not -path '*/.plinth/*' -printf '%h\0' | sort -zu)

# Conventions: plinth generates the backend (its generated, gitignored
# plinth_backend_override.tf is not stack code); ids and accounts come from
# plinth.hcl or tfvars, never from code.
if grep -rnE '^\s*backend\s+"' --include='*.tf' --exclude=plinth_backend_override.tf "$examples"; then fail "backend block in stack code"; fi
if grep -rnE '\b[0-9]{12}\b' --include='*.tf' "$examples"; then fail "literal AWS account id in .tf"; fi
if grep -rnE '"(vpc|subnet|sg|ami)-[0-9a-f]{8,17}"' --include='*.tf' "$examples"; then fail "literal AWS resource id in .tf"; fi

[[ $stacks -gt 0 ]] || fail "no stack.hcl found under $examples"
echo "$stacks stacks checked"
if [[ $failures -gt 0 ]]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
