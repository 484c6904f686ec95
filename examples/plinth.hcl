# The "atropos" platform: a foundation network, per-service stacks that consume
# its outputs, and a components + envs composition. Every resource is a
# terraform_data stand-in, so the whole project plans and applies offline.

plinth {
  project        = "atropos"
  engine         = "terraform"
  engine_version = ">= 1.6"
  parallelism    = 4
  var_files      = ["env/${env.name}.tfvars", "${env.name}.tfvars"]
}

state {
  backend = "local"
}

environment "dev" {
  lifecycle = "persistent"
  vars = {
    region                = "us-east-1"
    account_id            = "111111111111"
    cloudflare_account_id = "0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e"
    domain                = "dev.atropos.example"
  }
  env = { AWS_PROFILE = "atropos-dev" }
}

environment "ci" {
  lifecycle = "ephemeral"
  ttl       = "24h"
  vars = {
    region                = "us-east-1"
    account_id            = "222222222222"
    cloudflare_account_id = "1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f"
    domain                = "ci.atropos.example"
  }
  env = { AWS_PROFILE = "atropos-sandbox" }
}

environment "test" {
  lifecycle = "ephemeral"
  ttl       = "72h"
  vars = {
    region                = "us-east-1"
    account_id            = "222222222222"
    cloudflare_account_id = "1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f"
    domain                = "test.atropos.example"
  }
  env = { AWS_PROFILE = "atropos-sandbox" }
}

environment "staging" {
  lifecycle    = "persistent"
  promote_from = "dev"
  vars = {
    region                = "eu-west-1"
    account_id            = "333333333333"
    cloudflare_account_id = "2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a"
    domain                = "staging.atropos.example"
  }
  env = { AWS_PROFILE = "atropos-staging" }
}

environment "prod" {
  lifecycle    = "persistent"
  promote_from = "staging"
  protected    = true
  approvals    = 1
  vars = {
    region                = "eu-west-1"
    account_id            = "444444444444"
    cloudflare_account_id = "3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b"
    domain                = "atropos.example"
  }
  env = { AWS_PROFILE = "atropos-prod" }
}

# The licensing worker's payment key. Only staging and prod charge real
# customers; dev, ci and test run the worker without it.
secret "stripe_secret_key" {
  environments = ["staging", "prod"]
  from         = "vault:secret/licensing/${env.name}#stripe_secret_key"
}
