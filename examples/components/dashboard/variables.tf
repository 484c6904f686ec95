variable "name" {
  type        = string
  description = "Dashboard name."
}

variable "region" {
  type        = string
  description = "AWS region the widgets read metrics from."
}

variable "account_id" {
  type        = string
  description = "AWS account of the dashboard."
}

variable "table_names" {
  type        = map(string)
  description = "DynamoDB tables to chart, by logical name."
}

variable "api_id" {
  type        = string
  description = "API Gateway HTTP API to chart."
}
