locals {
  name_prefix = "atropos-${var.env_name}"
  azs         = [for suffix in slice(["a", "b", "c"], 0, var.az_count) : "${var.region}${suffix}"]

  # AWS hands out these ids at creation; the stand-ins derive stable ones from
  # the account, region and environment so every environment gets its own.
  vpc_id  = "vpc-${substr(sha1("${var.account_id}/${var.region}/${local.name_prefix}"), 0, 17)}"
  zone_id = "Z${upper(substr(sha1("${var.account_id}/${var.domain}"), 0, 20))}"

  tags = {
    project     = "atropos"
    environment = var.env_name
    stack       = "infra/plumbing/network"
    managed_by  = "plinth"
  }
}

resource "terraform_data" "vpc" {
  input = {
    resource_type        = "aws_vpc"
    id                   = local.vpc_id
    arn                  = "arn:aws:ec2:${var.region}:${var.account_id}:vpc/${local.vpc_id}"
    cidr_block           = var.vpc_cidr
    enable_dns_support   = true
    enable_dns_hostnames = true
    tags                 = merge(local.tags, { Name = "${local.name_prefix}-vpc" })
  }
}

resource "terraform_data" "flow_log" {
  input = {
    resource_type        = "aws_flow_log"
    vpc_id               = local.vpc_id
    traffic_type         = "ALL"
    log_destination_type = "cloud-watch-logs"
    log_group_name       = "/aws/vpc/${local.name_prefix}/flow-logs"
    retention_in_days    = 90
  }
}

resource "terraform_data" "private_subnet" {
  count = length(local.azs)

  input = {
    resource_type           = "aws_subnet"
    id                      = "subnet-${substr(sha1("${local.vpc_id}/private/${local.azs[count.index]}"), 0, 17)}"
    vpc_id                  = local.vpc_id
    availability_zone       = local.azs[count.index]
    cidr_block              = cidrsubnet(var.vpc_cidr, 4, count.index)
    map_public_ip_on_launch = false
    tags                    = merge(local.tags, { Name = "${local.name_prefix}-private-${local.azs[count.index]}", tier = "private" })
  }
}

resource "terraform_data" "public_subnet" {
  count = length(local.azs)

  input = {
    resource_type           = "aws_subnet"
    id                      = "subnet-${substr(sha1("${local.vpc_id}/public/${local.azs[count.index]}"), 0, 17)}"
    vpc_id                  = local.vpc_id
    availability_zone       = local.azs[count.index]
    cidr_block              = cidrsubnet(var.vpc_cidr, 4, 8 + count.index)
    map_public_ip_on_launch = false
    tags                    = merge(local.tags, { Name = "${local.name_prefix}-public-${local.azs[count.index]}", tier = "public" })
  }
}

resource "terraform_data" "nat_gateway" {
  count = min(var.nat_gateway_count, length(local.azs))

  input = {
    resource_type     = "aws_nat_gateway"
    id                = "nat-${substr(sha1("${local.vpc_id}/nat/${count.index}"), 0, 17)}"
    subnet_id         = terraform_data.public_subnet[count.index].output.id
    connectivity_type = "public"
    tags              = merge(local.tags, { Name = "${local.name_prefix}-nat-${local.azs[count.index]}" })
  }
}

resource "terraform_data" "zone" {
  input = {
    resource_type = "aws_route53_zone"
    zone_id       = local.zone_id
    name          = var.domain
    arn           = "arn:aws:route53:::hostedzone/${local.zone_id}"
    name_servers  = [for n in range(4) : "ns-${100 + n * 500}.awsdns-${10 + n}.${["com", "net", "org", "co.uk"][n]}"]
    tags          = local.tags
  }
}
