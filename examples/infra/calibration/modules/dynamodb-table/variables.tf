variable "name" {
  type        = string
  description = "Full table name, including the environment prefix."
}

variable "region" {
  type        = string
  description = "AWS region of the table."
}

variable "account_id" {
  type        = string
  description = "AWS account that owns the table."
}

variable "hash_key" {
  type        = string
  description = "Partition key attribute (string)."
}

variable "range_key" {
  type        = string
  description = "Sort key attribute (string), or null for a hash-only table."
  default     = null
}

variable "kms_key_arn" {
  type        = string
  description = "Customer-managed KMS key encrypting the table."
}

variable "ttl_attribute" {
  type        = string
  description = "Attribute holding the expiry epoch, or null to keep items forever."
  default     = null
}

variable "stream_enabled" {
  type        = bool
  description = "Publish item changes on a DynamoDB stream (NEW_AND_OLD_IMAGES)."
  default     = false
}

variable "alarm_topic_arn" {
  type        = string
  description = "SNS topic that receives the table's alarms."
}

variable "tags" {
  type        = map(string)
  description = "Tags applied to the table."
  default     = {}
}
