#!/usr/bin/env bash
# The baseline plinth replaces: a sequential loop over the stacks in dependency order
# (foundation first), `terraform init && terraform apply` in each, with its own TF_DATA_DIR
# and its own local state (the stack directory's terraform.tfstate), the foundation's outputs
# read once with `terraform output` and passed to the dependents with -var.
#
# Usage: bench/runs/shell_loop.sh PROJECT_DIR   (PROJECT_DIR written by gen_env.py)
set -euo pipefail

dir="$(cd "$1" && pwd)"
export TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1
export TF_PLUGIN_CACHE_DIR="$dir/.loop/plugin-cache"
mkdir -p "$TF_PLUGIN_CACHE_DIR"

vpc_id="" subnet_id=""
while read -r stack; do
  export TF_DATA_DIR="$dir/.loop/work/$stack"
  cd "$dir/$stack"
  terraform init -input=false -no-color >/dev/null
  if [[ "$stack" == foundation ]]; then
    terraform apply -auto-approve -input=false -no-color \
      -var env_name=dev -var region=eu-west-1 >/dev/null
    vpc_id="$(terraform output -raw vpc_id)"
    subnet_id="$(terraform output -raw subnet_id)"
  else
    terraform apply -auto-approve -input=false -no-color \
      -var "vpc_id=$vpc_id" -var "subnet_id=$subnet_id" -var "name=${stack##*/}" \
      -var owner=platform -var-file=env/dev.tfvars >/dev/null
  fi
done <"$dir/ORDER"
