#!/usr/bin/env python3
"""Generate a large, realistic plinth repository for discovery benchmarks.

The output is deterministic for a given (--stacks, --seed): a `plinth.hcl`
with five environments (dev, ci, test, staging, prod) and N stacks under
`platform/<domain>/<service>/<component>`, each with `stack.hcl`, `main.tf`,
`variables.tf` and `outputs.tf` (about 20,000 files for 5,000 stacks, as the
issue asks).

Shape, chosen to resemble real platform monorepos:
- a few foundation stacks (`platform/core/foundation/*`) with no dependencies
  and every environment;
- every other stack has 1-3 `dependency` blocks on earlier stacks (so the graph
  is a DAG by construction), mostly on its own service's earlier components,
  then on its domain's shared stacks and the foundation, with `mock_outputs`
  and `inputs` wired from the upstream outputs;
- about one stack in six is limited to some environments, and a stack only
  depends on stacks present in all of its environments.

Usage: bench/gen_repo.py OUT_DIR [--stacks 5000] [--seed 42] [--force]
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

ENVIRONMENTS = ["dev", "ci", "test", "staging", "prod"]

# Environment subsets a limited stack may use; each is a subset of every
# environment, so the foundation can always serve as a dependency.
LIMITED_ENV_SETS = [
    ["dev", "staging", "prod"],
    ["staging", "prod"],
    ["prod"],
    ["dev"],
    ["dev", "ci", "test"],
    ["dev", "staging"],
]

DOMAINS = [
    "payments", "identity", "data", "ml", "search", "messaging", "observability",
    "edge", "billing", "catalog", "fulfilment", "support", "analytics", "security",
    "media", "notifications", "ledger", "pricing", "risk", "growth",
]

SERVICE_WORDS = [
    "api", "gateway", "worker", "ingest", "scheduler", "indexer", "router", "sync",
    "exporter", "importer", "broker", "auth", "session", "profile", "ledger",
    "invoice", "refund", "checkout", "cart", "inventory", "feeds", "ranker",
    "embeddings", "features", "labels", "reports", "alerts", "audit", "consent",
    "calibration", "licensing", "webhooks", "mailer", "sms", "push", "uploads",
    "thumbnails", "transcoder", "pipeline", "warehouse",
]

# Components in the order a service usually builds them; later components
# depend on earlier ones. Each has the outputs it offers downstream.
COMPONENTS = {
    "iam": ["role_arn", "role_name", "policy_arn"],
    "kms": ["key_arn", "key_id", "alias_name"],
    "network": ["security_group_id", "subnet_ids", "endpoint_ids"],
    "storage": ["bucket_name", "bucket_arn"],
    "database": ["table_name", "table_arn", "stream_arn"],
    "cache": ["cluster_endpoint", "cluster_arn", "port"],
    "queue": ["queue_url", "queue_arn", "dlq_arn"],
    "compute": ["service_name", "cluster_arn", "task_role_arn"],
    "api": ["api_id", "api_url", "stage_name"],
    "dns": ["record_fqdn", "certificate_arn"],
    "alarms": ["topic_arn", "alarm_names"],
    "dashboard": ["dashboard_url"],
}

RESOURCE_TYPES = {
    "iam": ["aws_iam_role", "aws_iam_policy", "aws_iam_role_policy_attachment"],
    "kms": ["aws_kms_key", "aws_kms_alias"],
    "network": ["aws_security_group", "aws_vpc_endpoint", "aws_vpc_endpoint"],
    "storage": ["aws_s3_bucket", "aws_s3_bucket_public_access_block", "aws_s3_bucket_versioning"],
    "database": ["aws_dynamodb_table", "aws_cloudwatch_metric_alarm"],
    "cache": ["aws_elasticache_replication_group", "aws_elasticache_subnet_group"],
    "queue": ["aws_sqs_queue", "aws_sqs_queue", "aws_sqs_queue_redrive_policy"],
    "compute": ["aws_ecs_service", "aws_ecs_task_definition", "aws_cloudwatch_log_group"],
    "api": ["aws_apigatewayv2_api", "aws_apigatewayv2_stage", "aws_apigatewayv2_route"],
    "dns": ["aws_acm_certificate", "aws_route53_record"],
    "alarms": ["aws_sns_topic", "aws_cloudwatch_metric_alarm", "aws_cloudwatch_metric_alarm"],
    "dashboard": ["aws_cloudwatch_dashboard"],
}

FOUNDATION = {
    "platform/core/foundation/network": ["vpc_id", "private_subnet_ids", "public_subnet_ids", "vpc_cidr_block"],
    "platform/core/foundation/dns": ["zone_id", "zone_name"],
    "platform/core/foundation/kms": ["key_arn", "key_id"],
    "platform/core/foundation/logging": ["log_bucket_name", "log_bucket_arn"],
}

ARN_SERVICE = {
    "security": "ec2", "vpc": "ec2", "cloudwatch": "cloudwatch", "apigatewayv2": "apigateway",
    "elasticache": "elasticache", "s3": "s3", "iam": "iam", "kms": "kms", "dynamodb": "dynamodb",
    "sqs": "sqs", "ecs": "ecs", "acm": "acm", "route53": "route53", "sns": "sns", "ssm": "ssm",
}

OUTPUT_KIND = {
    "subnet_ids": "list",
    "endpoint_ids": "list",
    "private_subnet_ids": "list",
    "public_subnet_ids": "list",
    "alarm_names": "list",
    "port": "number",
}


@dataclass
class Stack:
    id: str
    domain: str
    service: str
    component: str
    outputs: list[str]
    environments: list[str]
    dependencies: list[tuple[str, "Stack"]] = field(default_factory=list)
    after: list[str] = field(default_factory=list)


def plan_paths(count: int, rng: random.Random) -> list[tuple[str, str, str]]:
    """(domain, service, component) triples, in build order, exactly `count` of them."""
    services: list[tuple[str, str]] = []
    per_domain: dict[str, int] = {}
    triples: list[tuple[str, str, str]] = []
    components = list(COMPONENTS)
    while len(triples) < count:
        domain = DOMAINS[len(services) % len(DOMAINS)]
        n = per_domain.get(domain, 0)
        per_domain[domain] = n + 1
        word = SERVICE_WORDS[(n * 7 + len(domain)) % len(SERVICE_WORDS)]
        service = word if n < len(SERVICE_WORDS) else f"{word}-{n // len(SERVICE_WORDS) + 1}"
        services.append((domain, service))
        # Real services use a varying subset of the components, in order.
        size = rng.randint(4, len(components))
        chosen = sorted(rng.sample(range(len(components)), size))
        for index in chosen:
            triples.append((domain, service, components[index]))
            if len(triples) == count:
                break
    return triples


def outputs_type(name: str) -> str:
    kind = OUTPUT_KIND.get(name, "string")
    return {"list": "list(string)", "number": "number", "string": "string"}[kind]


def mock_value(name: str, stack_id: str) -> str:
    kind = OUTPUT_KIND.get(name, "string")
    slug = stack_id.replace("/", "-")
    if kind == "list":
        return f'["mock-{slug}-{name}-a", "mock-{slug}-{name}-b"]'
    if kind == "number":
        return "6379"
    if name.endswith("_arn"):
        return f'"arn:aws:mock:us-east-1:mock:{slug}/{name}"'
    if name.endswith("_url"):
        return f'"https://mock.{slug}.atropos.example"'
    return f'"mock-{slug}-{name}"'


def choose_environments(rng: random.Random) -> list[str]:
    if rng.random() < 1 / 6:
        return list(rng.choice(LIMITED_ENV_SETS))
    return list(ENVIRONMENTS)


def choose_dependencies(stack: Stack, earlier_same_service: list[Stack], domain_stacks: list[Stack],
                        all_stacks: list[Stack], foundation: list[Stack], rng: random.Random) -> None:
    """Pick 1-3 upstream stacks present in every environment of `stack`."""
    wanted = rng.choice([1, 1, 2, 2, 2, 3])
    envs = set(stack.environments)

    def eligible(candidates: list[Stack]) -> list[Stack]:
        return [c for c in candidates if envs <= set(c.environments)]

    pools = [
        eligible(earlier_same_service[-4:]),
        eligible(domain_stacks[-40:]),
        foundation,
        eligible(all_stacks[-500:]),
    ]
    picked: list[Stack] = []
    for pool in pools:
        rng.shuffle(pool)
        for candidate in pool:
            if len(picked) == wanted:
                break
            if candidate not in picked:
                picked.append(candidate)
        if len(picked) == wanted:
            break
    used: set[str] = set()
    for upstream in picked:
        name = upstream.component if upstream.domain == "core" else f"{upstream.service}_{upstream.component}"
        name = name.replace("-", "_")
        base, n = name, 2
        while name in used:
            name, n = f"{base}_{n}", n + 1
        used.add(name)
        stack.dependencies.append((name, upstream))
    # Occasionally an ordering-only edge, as a real repo has for migrations.
    if rng.random() < 0.05:
        extra = [c for c in eligible(domain_stacks[-20:]) if c not in picked]
        if extra:
            stack.after.append(rng.choice(extra).id)


def wired_inputs(stack: Stack) -> list[tuple[str, str, str]]:
    """(variable, dependency name, output) for every input wired from upstream."""
    wires = []
    for name, upstream in stack.dependencies:
        for output in upstream.outputs[:2]:
            wires.append((f"{name}_{output}", name, output))
    return wires


ATTRIBUTE = re.compile(r"^(\s*)([A-Za-z_][\w-]*|\"[^\"]+\")\s*=\s(.*)$")


def align(text: str) -> str:
    """Align `=` in runs of attribute lines at one indent, as `terraform fmt` does."""
    lines = text.split("\n")
    out: list[str] = []
    run: list[tuple[str, str, str]] = []

    def flush() -> None:
        width = max((len(key) for _, key, _ in run), default=0)
        out.extend(f"{indent}{key.ljust(width)} = {value}" for indent, key, value in run)
        run.clear()

    for line in lines:
        match = ATTRIBUTE.match(line)
        if match and not match.group(3).endswith(("{", "[")) and (not run or run[0][0] == match.group(1)):
            run.append((match.group(1), match.group(2), match.group(3)))
            continue
        flush()
        if match and run == [] and not match.group(3).endswith(("{", "[")):
            run.append((match.group(1), match.group(2), match.group(3)))
            continue
        out.append(line)
    flush()
    return "\n".join(out)


def render_stack_hcl(stack: Stack) -> str:
    lines = ["stack {"]
    description = f"{stack.service} {stack.component} for the {stack.domain} domain"
    lines.append(f'  description = "{description}"')
    if stack.environments != ENVIRONMENTS:
        envs = ", ".join(f'"{e}"' for e in stack.environments)
        lines.append(f"  environments = [{envs}]")
    tags = [stack.domain, stack.component] + (["foundation"] if stack.domain == "core" else [])
    lines.append("  tags        = [" + ", ".join(f'"{t}"' for t in tags) + "]")
    if stack.after:
        lines.append("  after       = [" + ", ".join(f'"{a}"' for a in stack.after) + "]")
    lines.append("}")
    wires = wired_inputs(stack)
    for name, upstream in stack.dependencies:
        used = [output for var, dep, output in wires if dep == name]
        lines.append("")
        lines.append(f'dependency "{name}" {{')
        lines.append(f'  stack = "{upstream.id}"')
        lines.append("  mock_outputs = {")
        for output in used:
            lines.append(f"    {output} = {mock_value(output, upstream.id)}")
        lines.append("  }")
        lines.append("}")
    lines.append("")
    lines.append("inputs = {")
    lines.append("  env_name = env.name")
    for var, dep, output in wires:
        lines.append(f"  {var} = dependency.{dep}.outputs.{output}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_variables_tf(stack: Stack) -> str:
    blocks = [
        ('env_name', 'string', 'Name of the plinth environment.'),
        ('region', 'string', 'AWS region of the environment.'),
        ('account_id', 'string', 'AWS account of the environment.'),
    ]
    for var, dep, output in wired_inputs(stack):
        upstream = dict(stack.dependencies)[dep]
        blocks.append((var, outputs_type(output), f"{output} from {upstream.id}."))
    out = []
    for name, type_, description in blocks:
        out.append(f'variable "{name}" {{\n  type        = {type_}\n  description = "{description}"\n}}\n')
    return "\n".join(out)


def render_main_tf(stack: Stack, rng: random.Random) -> str:
    slug = f"{stack.domain}-{stack.service}-{stack.component}"
    out = [
        'terraform {\n  required_version = ">= 1.6"\n}\n',
        "locals {",
        f'  name_prefix = "atropos-${{var.env_name}}-{slug}"',
        "  tags = {",
        '    project     = "atropos"',
        "    environment = var.env_name",
        f'    domain      = "{stack.domain}"',
        f'    service     = "{stack.service}"',
        f'    stack       = "{stack.id}"',
        "  }",
        "}",
        "",
    ]
    wires = wired_inputs(stack)
    types = RESOURCE_TYPES.get(stack.component, ["aws_ssm_parameter", "aws_ssm_parameter"])
    for i, resource_type in enumerate(types):
        label = f"{resource_type.removeprefix('aws_')}_{i}"
        out.append(f'resource "terraform_data" "{label}" {{')
        out.append("  input = {")
        out.append(f'    resource_type = "{resource_type}"')
        out.append(f'    name          = "${{local.name_prefix}}-{i}"')
        out.append(f'    arn           = "arn:aws:{ARN_SERVICE[resource_type.split("_")[1]]}:${{var.region}}:${{var.account_id}}:{slug}/${{local.name_prefix}}-{i}"')
        for var, _, _ in wires[i::len(types)]:
            out.append(f"    {var} = var.{var}")
        out.append(f"    retention     = {rng.choice([7, 14, 30, 90, 365])}")
        out.append("    tags          = local.tags")
        out.append("  }")
        out.append("}")
        out.append("")
    return "\n".join(out)


def render_outputs_tf(stack: Stack) -> str:
    out = []
    for output in stack.outputs:
        kind = OUTPUT_KIND.get(output, "string")
        if kind == "list":
            value = f'[for n in ["a", "b"] : "${{local.name_prefix}}-{output}-${{n}}"]'
        elif kind == "number":
            value = "6379"
        else:
            value = f'"${{local.name_prefix}}-{output}"'
        out.append(f'output "{output}" {{\n  description = "{output.replace("_", " ")} of {stack.id}."\n  value       = {value}\n}}\n')
    return "\n".join(out)


PLINTH_HCL = """plinth {
  project        = "atropos-bench"
  engine         = "terraform"
  engine_version = ">= 1.6"
  var_files      = ["env/${env.name}.tfvars", "${env.name}.tfvars"]
}

state {
  backend = "local"
}
"""

ENV_BLOCKS = {
    "dev": ('lifecycle = "persistent"', "us-east-1", "111111111111"),
    "ci": ('lifecycle = "ephemeral"\n  ttl       = "24h"', "us-east-1", "222222222222"),
    "test": ('lifecycle = "ephemeral"\n  ttl       = "72h"', "us-east-1", "222222222222"),
    "staging": ('lifecycle    = "persistent"\n  promote_from = "dev"', "eu-west-1", "333333333333"),
    "prod": ('lifecycle    = "persistent"\n  promote_from = "staging"\n  protected    = true\n  approvals    = 1',
             "eu-west-1", "444444444444"),
}


def render_plinth_hcl() -> str:
    out = [PLINTH_HCL]
    for env in ENVIRONMENTS:
        settings, region, account = ENV_BLOCKS[env]
        out.append(
            f'environment "{env}" {{\n  {settings}\n'
            f'  vars = {{ region = "{region}", account_id = "{account}" }}\n}}\n'
        )
    return "\n".join(out)


def generate(out_dir: Path, count: int, seed: int) -> int:
    rng = random.Random(seed)
    foundation = [
        Stack(id=sid, domain="core", service="foundation", component=sid.rsplit("/", 1)[1],
              outputs=outs, environments=list(ENVIRONMENTS))
        for sid, outs in FOUNDATION.items()
    ][:count]
    stacks: list[Stack] = list(foundation)
    by_service: dict[tuple[str, str], list[Stack]] = {}
    by_domain: dict[str, list[Stack]] = {}
    for domain, service, component in plan_paths(count - len(stacks), rng):
        stack = Stack(
            id=f"platform/{domain}/{service}/{component}", domain=domain, service=service,
            component=component, outputs=COMPONENTS[component], environments=choose_environments(rng),
        )
        same_service = by_service.setdefault((domain, service), [])
        domain_stacks = by_domain.setdefault(domain, [])
        choose_dependencies(stack, same_service, domain_stacks, stacks, foundation, rng)
        same_service.append(stack)
        domain_stacks.append(stack)
        stacks.append(stack)

    files = 0
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "plinth.hcl").write_text(render_plinth_hcl())
    (out_dir / ".gitignore").write_text(".plinth/\n.terraform/\n")
    files += 2
    for stack in stacks:
        d = out_dir / stack.id
        d.mkdir(parents=True, exist_ok=True)
        (d / "stack.hcl").write_text(align(render_stack_hcl(stack)))
        (d / "main.tf").write_text(align(render_main_tf(stack, rng)))
        (d / "variables.tf").write_text(align(render_variables_tf(stack)))
        (d / "outputs.tf").write_text(align(render_outputs_tf(stack)))
        files += 4
    return files


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="directory to create the repository in")
    parser.add_argument("--stacks", type=int, default=5000, help="number of stacks (default 5000)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--force", action="store_true", help="replace OUT_DIR if it exists")
    args = parser.parse_args(argv)
    if args.stacks < 1:
        parser.error("--stacks must be at least 1")
    if args.out_dir.exists() and any(args.out_dir.iterdir()):
        if not args.force:
            parser.error(f"{args.out_dir} exists and is not empty (use --force to replace it)")
        shutil.rmtree(args.out_dir)
    files = generate(args.out_dir, args.stacks, args.seed)
    print(f"generated {args.stacks} stacks, {files} files in {args.out_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
