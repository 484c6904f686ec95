locals {
  arn = "arn:aws:sns:${var.region}:${var.account_id}:${var.name}"
  endpoints = concat(
    [for address in var.email_addresses : { protocol = "email", endpoint = address }],
    var.pager_endpoint == null ? [] : [{ protocol = "https", endpoint = var.pager_endpoint }],
  )
}

resource "terraform_data" "topic" {
  input = {
    resource_type     = "aws_sns_topic"
    name              = var.name
    arn               = local.arn
    kms_master_key_id = var.kms_key_arn
  }
}

resource "terraform_data" "subscription" {
  count = length(local.endpoints)

  input = {
    resource_type = "aws_sns_topic_subscription"
    topic_arn     = terraform_data.topic.output.arn
    protocol      = local.endpoints[count.index].protocol
    endpoint      = local.endpoints[count.index].endpoint
  }
}

resource "terraform_data" "forward" {
  count = length(var.source_topic_arns)

  input = {
    resource_type = "aws_sns_topic_subscription"
    topic_arn     = var.source_topic_arns[count.index]
    protocol      = "sns"
    endpoint      = terraform_data.topic.output.arn
  }
}
