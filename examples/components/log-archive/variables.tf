variable "name" {
  type        = string
  description = "Bucket name; must be globally unique, so include the account id."
}

variable "region" {
  type        = string
  description = "AWS region of the bucket."
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key encrypting the archived objects."
}

variable "retention_days" {
  type        = number
  description = "Days before archived logs expire."
}

variable "glacier_after_days" {
  type        = number
  description = "Days before objects move to Glacier Instant Retrieval."
  default     = 30
}

variable "tags" {
  type        = map(string)
  description = "Tags applied to the bucket."
  default     = {}
}
