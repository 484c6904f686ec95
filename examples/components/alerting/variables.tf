variable "name" {
  type        = string
  description = "Name of the on-call topic."
}

variable "region" {
  type        = string
  description = "AWS region of the topic."
}

variable "account_id" {
  type        = string
  description = "AWS account of the topic."
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key encrypting messages at rest."
}

variable "pager_endpoint" {
  type        = string
  description = "HTTPS endpoint of the paging service; null sends alerts to e-mail only."
  default     = null
}

variable "email_addresses" {
  type        = list(string)
  description = "Team mailing lists subscribed to the topic."
  default     = []
}

variable "source_topic_arns" {
  type        = list(string)
  description = "Service alarm topics forwarded to this topic."
  default     = []
}
