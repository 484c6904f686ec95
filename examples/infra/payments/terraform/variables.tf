variable "env_name" {
  type        = string
  description = "Name of the plinth environment (staging or prod)."
}

variable "cloudflare_account_id" {
  type        = string
  description = "Cloudflare account that runs the licensing worker."
}

variable "worker_name" {
  type        = string
  description = "Licensing worker from infra/licensing/terraform."
}

variable "licensing_url" {
  type        = string
  description = "Public base URL of the licensing API from infra/licensing/terraform."
}

variable "secrets_store_id" {
  type        = string
  description = "Cloudflare Secrets Store of the licensing worker."
}

variable "stripe_secret_key" {
  type        = string
  description = "Stripe API key; plinth injects it as TF_VAR_stripe_secret_key from Vault (secret block in plinth.hcl)."
  sensitive   = true
}
