# The prod composition: which components prod runs and how they are sized.
# Each envs/<env> stack is its own root, so these settings are plain
# arguments rather than var files.

locals {
  name_prefix = "atropos-${var.env_name}-observability"
  kms_key_id  = uuidv5("url", "kms://${var.account_id}/${var.region}/${local.name_prefix}")
}

resource "terraform_data" "kms_key" {
  input = {
    resource_type           = "aws_kms_key"
    key_id                  = local.kms_key_id
    arn                     = "arn:aws:kms:${var.region}:${var.account_id}:key/${local.kms_key_id}"
    description             = "Encrypts prod log archives and on-call messages"
    enable_key_rotation     = true
    deletion_window_in_days = 30
  }
}

module "log_archive" {
  source = "../../components/log-archive"

  name               = "${local.name_prefix}-logs-${var.account_id}"
  region             = var.region
  kms_key_arn        = terraform_data.kms_key.output.arn
  retention_days     = 400
  glacier_after_days = 30
  tags               = { project = "atropos", environment = var.env_name, managed_by = "plinth" }
}

module "alerting" {
  source = "../../components/alerting"

  name              = "${local.name_prefix}-oncall"
  region            = var.region
  account_id        = var.account_id
  kms_key_arn       = terraform_data.kms_key.output.arn
  email_addresses   = ["platform-oncall@atropos.example", "sre@atropos.example"]
  pager_endpoint    = "https://events.pagerduty.example/integration/atropos-prod/enqueue"
  source_topic_arns = [var.calibration_alarm_topic_arn]
}

module "dashboard" {
  source = "../../components/dashboard"

  name        = "atropos-${var.env_name}"
  region      = var.region
  account_id  = var.account_id
  table_names = var.calibration_table_names
  api_id      = var.edge_api_id
}
