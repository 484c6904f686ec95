output "vpc_id" {
  description = "Id of the shared VPC."
  value       = terraform_data.vpc.output.id
}

output "vpc_cidr_block" {
  description = "IPv4 range of the shared VPC."
  value       = terraform_data.vpc.output.cidr_block
}

output "availability_zones" {
  description = "Availability zones that have subnets, in subnet order."
  value       = local.azs
}

output "private_subnet_ids" {
  description = "Private subnets, one per availability zone; workloads go here."
  value       = terraform_data.private_subnet[*].output.id
}

output "public_subnet_ids" {
  description = "Public subnets, one per availability zone; only load balancers and NAT go here."
  value       = terraform_data.public_subnet[*].output.id
}

output "nat_gateway_ids" {
  description = "NAT gateways serving the private subnets."
  value       = terraform_data.nat_gateway[*].output.id
}

output "zone_id" {
  description = "Route 53 hosted zone id of the environment's domain."
  value       = terraform_data.zone.output.zone_id
}

output "zone_name" {
  description = "DNS name of the environment's hosted zone."
  value       = terraform_data.zone.output.name
}
