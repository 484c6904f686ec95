#!/usr/bin/env python3
"""Writes a Terragrunt tree to Terragrunt's documented layout for the import benchmark.

    bench/import/gen_terragrunt.py OUT_DIR [--units 1000] [--envs 10] [--force]

root.hcl (locals from env.hcl via read_terragrunt_config, s3 remote_state keyed by
path_relative_to_include(), inputs merged into every unit), one env.hcl per environment
under live/<env>/, five local modules under modules/, and UNITS units spread evenly over the
environments. Unit k of an environment includes root.hcl, sources modules/<m> with a `//`,
and depends on one to three earlier units of its environment (mock_outputs, inputs wired
from their outputs); every tenth also has `dependencies { paths }`. Deterministic.
"""
import argparse
import os
import shutil

MODULES = ["network", "database", "cache", "service", "edge"]

ROOT = """locals {
  env_vars    = read_terragrunt_config(find_in_parent_folders("env.hcl"))
  environment = local.env_vars.locals.environment
}

remote_state {
  backend = "s3"
  config = {
    bucket         = "acme-tfstate"
    key            = "${path_relative_to_include()}/terraform.tfstate"
    region         = "us-east-1"
    encrypt        = true
    dynamodb_table = "terraform-locks"
  }
}

inputs = {
  environment = local.environment
}
"""


def module_tf(name):
    return (
        'variable "environment" {\n  type = string\n}\n\n'
        'variable "upstream" {\n  type    = list(string)\n  default = []\n}\n\n'
        'variable "size" {\n  type    = string\n  default = "small"\n}\n\n'
        f'resource "terraform_data" "{name}" {{\n  input = "${{var.environment}}-${{var.size}}"\n}}\n\n'
        f'output "id" {{\n  value = terraform_data.{name}.output\n}}\n'
    )


def unit_hcl(k, deps, every_tenth):
    m = MODULES[k % len(MODULES)]
    out = ['include "root" {\n  path = find_in_parent_folders("root.hcl")\n}\n']
    out.append(f'terraform {{\n  source = "../../../modules//{m}"\n}}\n')
    for d in deps:
        out.append(
            f'dependency "u{d:04d}" {{\n  config_path = "../u{d:04d}"\n\n'
            f'  mock_outputs = {{\n    id = "mock-{d:04d}"\n  }}\n}}\n'
        )
    if every_tenth and k > 0:
        out.append(f'dependencies {{\n  paths = ["../u{0:04d}"]\n}}\n')
    ups = ", ".join(f"dependency.u{d:04d}.outputs.id" for d in deps)
    out.append(f'inputs = {{\n  upstream = [{ups}]\n  size     = "{["small", "medium", "large"][k % 3]}"\n}}\n')
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--units", type=int, default=1000)
    ap.add_argument("--envs", type=int, default=10)
    ap.add_argument("--force", action="store_true")
    a = ap.parse_args()
    if os.path.exists(a.out):
        if not a.force:
            raise SystemExit(f"{a.out} exists (use --force)")
        shutil.rmtree(a.out)

    def write(rel, text):
        p = os.path.join(a.out, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)

    write("root.hcl", ROOT)
    for m in MODULES:
        write(f"modules/{m}/main.tf", module_tf(m))
    per_env = a.units // a.envs
    for e in range(a.envs):
        env = f"env{e:02d}"
        write(f"live/{env}/env.hcl", f'locals {{\n  environment = "{env}"\n}}\n')
        for k in range(per_env):
            deps = sorted({k - 1 - ((k * 7 + j * 13) % min(k, 20)) for j in range(1 + k % 3)} if k else set())
            write(f"live/{env}/u{k:04d}/terragrunt.hcl", unit_hcl(k, deps, k % 10 == 0))


if __name__ == "__main__":
    main()
