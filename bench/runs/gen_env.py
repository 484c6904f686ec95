#!/usr/bin/env python3
"""Writes the runs benchmark project: one foundation stack and N-1 dependents that consume
its outputs, `terraform_data` only (no provider download), one environment `dev` with
`vars` and a per-stack var file, an ephemeral `preview` for `env up`, plus the stack order
for the shell-loop baseline.

Usage: bench/runs/gen_env.py OUT_DIR [--stacks 40]
"""

import argparse
import pathlib
import shutil

PLINTH_HCL = """plinth {
  project        = "bench-runs"
  engine         = "terraform"
  engine_version = ">= 1.6"
  var_files      = ["env/${env.name}.tfvars"]
}

environment "dev" {
  vars = { region = "eu-west-1", owner = "platform" }
}

environment "preview" {
  lifecycle = "ephemeral"
  ttl       = "24h"
  vars      = { region = "eu-west-1", owner = "platform" }
}
"""

FOUNDATION_HCL = """stack {
  tags = ["foundation"]
}

inputs = {
  env_name = env.name
}
"""

FOUNDATION_TF = """variable "env_name" {
  type = string
}

variable "region" {
  type = string
}

resource "terraform_data" "vpc" {
  input = "vpc-${var.env_name}-${var.region}"
}

resource "terraform_data" "subnet" {
  input = "${terraform_data.vpc.output}-subnet-a"
}

output "vpc_id" {
  value = terraform_data.vpc.output
}

output "subnet_id" {
  value = terraform_data.subnet.output
}
"""

SERVICE_HCL = """dependency "foundation" {
  stack        = "foundation"
  mock_outputs = { vpc_id = "vpc-mock", subnet_id = "subnet-mock" }
}

inputs = {
  vpc_id    = dependency.foundation.outputs.vpc_id
  subnet_id = dependency.foundation.outputs.subnet_id
  name      = "{name}"
}
"""

SERVICE_TF = """variable "vpc_id" {
  type = string
}

variable "subnet_id" {
  type = string
}

variable "name" {
  type = string
}

variable "owner" {
  type = string
}

variable "size" {
  type    = string
  default = "small"
}

resource "terraform_data" "service" {
  input = "${var.name}@${var.vpc_id}/${var.subnet_id} (${var.owner}, ${var.size})"
}

resource "terraform_data" "endpoint" {
  input = "https://${var.name}.${var.vpc_id}.internal"
}

output "endpoint" {
  value = terraform_data.endpoint.output
}
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=pathlib.Path)
    parser.add_argument("--stacks", type=int, default=40)
    args = parser.parse_args()
    out: pathlib.Path = args.out
    if out.exists():
        shutil.rmtree(out)
    (out / "foundation").mkdir(parents=True)
    (out / "plinth.hcl").write_text(PLINTH_HCL)
    (out / "foundation/stack.hcl").write_text(FOUNDATION_HCL)
    (out / "foundation/main.tf").write_text(FOUNDATION_TF)
    order = ["foundation"]
    for i in range(1, args.stacks):
        name = f"s{i:02d}"
        d = out / "services" / name
        (d / "env").mkdir(parents=True)
        (d / "stack.hcl").write_text(SERVICE_HCL.replace("{name}", name))
        (d / "main.tf").write_text(SERVICE_TF)
        size = f'size = "{"large" if i % 3 == 0 else "small"}"\n'
        (d / "env/dev.tfvars").write_text(size)
        (d / "env/preview.tfvars").write_text(size)
        order.append(f"services/{name}")
    # The baseline loop reads this: stacks in dependency order.
    (out / "ORDER").write_text("\n".join(order) + "\n")


if __name__ == "__main__":
    main()
