#!/usr/bin/env python3
"""Make a repository from bench/gen_repo.py realistic for `plinth check` and checkov.

gen_repo.py models resources as `terraform_data` stand-ins, which checkov does not know.
This overlay adds to every stack what a real platform stack has, so that both tools scan
real AWS resources:
- `resources.tf`: a few real AWS resources for the stack's component (S3 bucket with
  public access block, encryption and versioning; DynamoDB table; KMS key; IAM role and
  policy; security group; SQS queue; log group; SNS topic ...), written the compliant way;
- `versions.tf`: `required_providers` for aws;
- a call to the shared local module `modules/labels` (written once at the root) and, in one
  stack out of four, a pinned registry module call;
- `README.md` when missing.
One stack in 50 gets a deliberate problem (a KMS key without rotation, an SSH port open to
the internet, an unpinned module), so the harness also times the diagnostics path.

Usage: bench/check/realistic.py REPO   (idempotent)
"""

from __future__ import annotations

import sys
from pathlib import Path

VERSIONS_TF = """terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.60"
    }
  }
}
"""

LABELS_MAIN = """variable "name" {
  type        = string
  description = "Name prefix of the resources."
}

variable "tags" {
  type        = map(string)
  description = "Tags every resource carries."
}

locals {
  tags = merge(var.tags, { managed_by = "plinth", name = var.name })
}

output "tags" {
  description = "Tags with the standard labels added."
  value       = local.tags
}

output "name" {
  description = "The name prefix."
  value       = var.name
}
"""

S3 = """resource "aws_s3_bucket" "data" {
  bucket = "${local.name_prefix}-data"
  tags   = module.labels.tags
}

resource "aws_s3_bucket_public_access_block" "data" {
  bucket                  = aws_s3_bucket.data.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "data" {
  bucket = aws_s3_bucket.data.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
  }
}

resource "aws_s3_bucket_versioning" "data" {
  bucket = aws_s3_bucket.data.id
  versioning_configuration {
    status = "Enabled"
  }
}
"""

DYNAMODB = """resource "aws_dynamodb_table" "main" {
  name                        = "${local.name_prefix}-main"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  range_key                   = "sk"
  deletion_protection_enabled = true

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = "arn:aws:kms:${var.region}:${var.account_id}:alias/${local.name_prefix}"
  }

  tags = module.labels.tags
}
"""

KMS = """resource "aws_kms_key" "main" {
  description             = "${local.name_prefix} data key"
  deletion_window_in_days = 30
  enable_key_rotation     = true
  tags                    = module.labels.tags
}

resource "aws_kms_alias" "main" {
  name          = "alias/${local.name_prefix}"
  target_key_id = aws_kms_key.main.key_id
}
"""

KMS_NO_ROTATION = KMS.replace("enable_key_rotation     = true", "enable_key_rotation     = false")

IAM = """resource "aws_iam_role" "service" {
  name = "${local.name_prefix}-service"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
    }]
  })
  tags = module.labels.tags
}

resource "aws_iam_role_policy" "service" {
  name = "${local.name_prefix}-read"
  role = aws_iam_role.service.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:ListBucket"]
      Resource = ["arn:aws:s3:::${local.name_prefix}-data", "arn:aws:s3:::${local.name_prefix}-data/*"]
    }]
  })
}
"""

SG = """resource "aws_security_group" "service" {
  name        = "${local.name_prefix}-service"
  description = "Service traffic for ${local.name_prefix}"

  ingress {
    description = "HTTPS from the VPC"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8"]
  }

  egress {
    description = "HTTPS out"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  tags = module.labels.tags
}
"""

SG_OPEN_SSH = SG.replace(
    '    description = "HTTPS from the VPC"\n    from_port   = 443\n    to_port     = 443\n    protocol    = "tcp"\n    cidr_blocks = ["10.0.0.0/8"]',
    '    description = "SSH from anywhere"\n    from_port   = 22\n    to_port     = 22\n    protocol    = "tcp"\n    cidr_blocks = ["0.0.0.0/0"]',
)

SQS = """resource "aws_sqs_queue" "dlq" {
  name                    = "${local.name_prefix}-dlq"
  sqs_managed_sse_enabled = true
  tags                    = module.labels.tags
}

resource "aws_sqs_queue" "main" {
  name                    = "${local.name_prefix}-main"
  sqs_managed_sse_enabled = true
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = 5
  })
  tags = module.labels.tags
}
"""

LOGS = """resource "aws_cloudwatch_log_group" "main" {
  name              = "/atropos/${local.name_prefix}"
  retention_in_days = 365
  kms_key_id        = "arn:aws:kms:${var.region}:${var.account_id}:alias/logs"
  tags              = module.labels.tags
}
"""

SNS = """resource "aws_sns_topic" "alerts" {
  name              = "${local.name_prefix}-alerts"
  kms_master_key_id = "alias/aws/sns"
  tags              = module.labels.tags
}
"""

BY_COMPONENT = {
    "storage": [S3],
    "database": [DYNAMODB],
    "kms": [KMS],
    "iam": [IAM],
    "network": [SG],
    "queue": [SQS],
    "compute": [LOGS, IAM],
    "alarms": [SNS],
    "cache": [SG, LOGS],
    "api": [LOGS],
    "dns": [SNS],
    "dashboard": [LOGS],
}

REGISTRY_MODULE = """
module "endpoints" {
  source  = "terraform-aws-modules/vpc/aws//modules/vpc-endpoints"
  version = "5.8.1"

  create = false
  tags   = module.labels.tags
}
"""

UNPINNED_MODULE = """
module "endpoints" {
  source = "git::https://example.invalid/modules/vpc-endpoints.git?ref=main"

  tags = module.labels.tags
}
"""


def module_call(stack_dir: Path, root: Path) -> str:
    rel = Path(*[".."] * len(stack_dir.relative_to(root).parts)) / "modules" / "labels"
    return (
        'module "labels" {\n'
        f'  source = "./{rel.as_posix()}"\n' if not str(rel).startswith("..") else
        'module "labels" {\n'
        f'  source = "{rel.as_posix()}"\n'
    ) + "  name   = local.name_prefix\n  tags   = local.tags\n}\n"


def overlay(root: Path) -> int:
    (root / "modules" / "labels").mkdir(parents=True, exist_ok=True)
    (root / "modules" / "labels" / "main.tf").write_text(LABELS_MAIN)
    (root / "modules" / "labels" / "README.md").write_text("# labels\n\nStandard tags.\n")
    stacks = sorted(p.parent for p in root.rglob("stack.hcl"))
    for index, stack_dir in enumerate(stacks):
        component = stack_dir.name
        blocks = list(BY_COMPONENT.get(component, [SNS]))
        broken = index % 50 == 49
        if broken:
            kind = (index // 50) % 3
            if kind == 0:
                blocks.append(KMS_NO_ROTATION.replace('"main"', '"legacy"'))
            elif kind == 1:
                blocks.append(SG_OPEN_SSH.replace('"service"', '"bastion"').replace("-service", "-bastion"))
        text = module_call(stack_dir, root) + "\n" + "\n".join(blocks)
        if broken and (index // 50) % 3 == 2:
            text += UNPINNED_MODULE
        elif index % 4 == 0:
            text += REGISTRY_MODULE
        (stack_dir / "resources.tf").write_text(text)
        (stack_dir / "versions.tf").write_text(VERSIONS_TF)
        readme = stack_dir / "README.md"
        if not readme.exists():
            readme.write_text(f"# {stack_dir.relative_to(root).as_posix()}\n\nOwned by the platform team.\n")
    return len(stacks)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 64
    count = overlay(Path(argv[0]))
    print(f"realistic overlay on {count} stacks", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
