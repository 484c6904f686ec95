locals {
  name_prefix = "atropos-${var.env_name}"
  worker_name = "${local.name_prefix}-licensing"
  hostname    = "licensing.${var.zone_name}"

  # Cloudflare assigns 32-hex-character ids; the stand-ins derive stable ones.
  kv_namespace_ids = {
    for ns in var.kv_namespaces : ns => substr(sha1("${var.cloudflare_account_id}/${local.worker_name}/${ns}"), 0, 32)
  }
  secrets_store_id = substr(sha1("${var.cloudflare_account_id}/${local.name_prefix}/secrets-store"), 0, 32)

  # Values are put into the store out of band (or by infra/payments for the
  # Stripe key); the worker only binds them by name.
  secret_bindings = {
    SIGNING_KEY    = "license-signing-key"
    WEBHOOK_SECRET = "license-webhook-signing"
  }
}

resource "terraform_data" "kv_namespace" {
  for_each = local.kv_namespace_ids

  input = {
    resource_type = "cloudflare_workers_kv_namespace"
    account_id    = var.cloudflare_account_id
    id            = each.value
    title         = "${local.worker_name}-${each.key}"
  }
}

resource "terraform_data" "secrets_store" {
  input = {
    resource_type = "cloudflare_secrets_store"
    account_id    = var.cloudflare_account_id
    id            = local.secrets_store_id
    name          = "${local.name_prefix}-licensing"
  }
}

resource "terraform_data" "audit_log_bucket" {
  input = {
    resource_type = "aws_s3_bucket"
    bucket        = "${local.name_prefix}-licensing-audit-${var.account_id}"
    arn           = "arn:aws:s3:::${local.name_prefix}-licensing-audit-${var.account_id}"
    region        = var.region
    versioning    = { enabled = true }
    server_side_encryption = {
      sse_algorithm = "aws:kms"
    }
    public_access_block = {
      block_public_acls       = true
      block_public_policy     = true
      ignore_public_acls      = true
      restrict_public_buckets = true
    }
    object_lock_enabled = true
  }
}

resource "terraform_data" "worker" {
  input = {
    resource_type      = "cloudflare_workers_script"
    account_id         = var.cloudflare_account_id
    script_name        = local.worker_name
    compatibility_date = "2026-01-01"
    kv_namespace_bindings = [
      for ns in keys(local.kv_namespace_ids) : { name = "KV_${upper(ns)}", namespace_id = terraform_data.kv_namespace[ns].output.id }
    ]
    secrets_store_secret_bindings = [
      for name, secret in local.secret_bindings : { name = name, store_id = terraform_data.secrets_store.output.id, secret_name = secret }
    ]
    plain_text_bindings = [
      { name = "ENVIRONMENT", text = var.env_name },
      { name = "AUDIT_BUCKET", text = terraform_data.audit_log_bucket.output.bucket },
    ]
  }
}

resource "terraform_data" "route" {
  input = {
    resource_type = "cloudflare_workers_route"
    pattern       = "${local.hostname}/*"
    script_name   = terraform_data.worker.output.script_name
  }
}

resource "terraform_data" "dns_record" {
  input = {
    resource_type = "aws_route53_record"
    zone_id       = var.zone_id
    name          = local.hostname
    type          = "CNAME"
    ttl           = 300
    records       = ["${local.worker_name}.workers.dev"]
  }
}
