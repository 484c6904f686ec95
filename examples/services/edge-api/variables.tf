variable "env_name" {
  type        = string
  description = "Name of the plinth environment."
}

variable "region" {
  type        = string
  description = "AWS region of the API."
}

variable "account_id" {
  type        = string
  description = "AWS account of the API."
}

variable "zone_id" {
  type        = string
  description = "Route 53 zone id from infra/plumbing/network."
}

variable "zone_name" {
  type        = string
  description = "DNS name of the environment's zone from infra/plumbing/network."
}

variable "licensing_url" {
  type        = string
  description = "Base URL of the licensing API from infra/licensing/terraform; /v1/licenses/* is proxied to it."
}

variable "throttling_rate_limit" {
  type        = number
  description = "Steady-state requests per second allowed on the default stage."
  default     = 50
}

variable "throttling_burst_limit" {
  type        = number
  description = "Burst of requests allowed above the steady rate."
  default     = 100
}

variable "waf_rate_limit" {
  type        = number
  description = "Requests per 5 minutes from one IP before the WAF blocks it."
  default     = 2000
}

variable "log_retention_days" {
  type        = number
  description = "Days the API's access logs are kept."
  default     = 14
}

variable "cors_allowed_origins" {
  type        = list(string)
  description = "Origins allowed to call the API from a browser."
  default     = []
}
