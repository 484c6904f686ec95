variable "env_name" {
  type        = string
  description = "Name of the plinth environment."
}

variable "region" {
  type        = string
  description = "AWS region of the audit-log bucket."
}

variable "account_id" {
  type        = string
  description = "AWS account that owns the audit-log bucket."
}

variable "cloudflare_account_id" {
  type        = string
  description = "Cloudflare account that runs the licensing worker."
}

variable "zone_id" {
  type        = string
  description = "Route 53 zone id from infra/plumbing/network."
}

variable "zone_name" {
  type        = string
  description = "DNS name of the environment's zone from infra/plumbing/network."
}

variable "kv_namespaces" {
  type        = list(string)
  description = "Workers KV namespaces the licensing worker binds, by logical name."
  default     = ["licenses", "activations", "revocations"]
}
