locals {
  name_prefix = "atropos-${var.env_name}"
}

resource "terraform_data" "stripe_key_entry" {
  input = {
    resource_type = "cloudflare_secrets_store_secret"
    account_id    = var.cloudflare_account_id
    store_id      = var.secrets_store_id
    name          = "stripe-secret-key"
    scopes        = ["workers"]
    # The stand-in keeps a fingerprint, so rotations show up in plans, and
    # never the key itself.
    value_sha256 = sha256(var.stripe_secret_key)
  }
}

resource "terraform_data" "worker_binding" {
  input = {
    resource_type = "cloudflare_workers_secrets_store_binding"
    script_name   = var.worker_name
    name          = "STRIPE_SECRET_KEY"
    store_id      = var.secrets_store_id
    secret_name   = terraform_data.stripe_key_entry.output.name
  }
}

resource "terraform_data" "webhook_endpoint" {
  input = {
    resource_type  = "stripe_webhook_endpoint"
    url            = "${var.licensing_url}/stripe/webhook"
    description    = "${local.name_prefix} licensing"
    enabled_events = ["checkout.session.completed", "customer.subscription.updated", "customer.subscription.deleted", "invoice.payment_failed"]
  }
}
