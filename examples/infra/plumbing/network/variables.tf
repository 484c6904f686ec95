variable "env_name" {
  type        = string
  description = "Name of the plinth environment (dev, staging, prod, test-pr-42, ...)."
}

variable "region" {
  type        = string
  description = "AWS region the VPC lives in."
}

variable "account_id" {
  type        = string
  description = "AWS account that owns the VPC."
}

variable "domain" {
  type        = string
  description = "DNS name of the environment's public hosted zone."
}

variable "vpc_cidr" {
  type        = string
  description = "IPv4 range of the VPC; each environment gets a distinct /16 so they can be peered."
  default     = "10.90.0.0/16"
}

variable "az_count" {
  type        = number
  description = "How many availability zones get a private and a public subnet."
  default     = 2

  validation {
    condition     = var.az_count >= 1 && var.az_count <= 3
    error_message = "az_count must be between 1 and 3."
  }
}

variable "nat_gateway_count" {
  type        = number
  description = "NAT gateways to run: 1 is cheap, one per AZ survives an AZ outage."
  default     = 1
}
