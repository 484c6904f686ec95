variable "env_name" {
  type        = string
  description = "Name of the plinth environment."
}

variable "region" {
  type        = string
  description = "AWS region of the calibration service."
}

variable "account_id" {
  type        = string
  description = "AWS account of the calibration service."
}

variable "vpc_id" {
  type        = string
  description = "Shared VPC from infra/plumbing/network."
}

variable "vpc_cidr_block" {
  type        = string
  description = "IPv4 range of the shared VPC, allowed to reach the API."
}

variable "private_subnet_ids" {
  type        = list(string)
  description = "Private subnets from infra/plumbing/network; the API's tasks run here."
}
