locals {
  arn = "arn:aws:dynamodb:${var.region}:${var.account_id}:table/${var.name}"
  # Stream labels are the creation timestamp; a fixed one keeps plans stable.
  stream_arn = var.stream_enabled ? "${local.arn}/stream/2026-01-01T00:00:00.000" : null
}

resource "terraform_data" "table" {
  input = {
    resource_type = "aws_dynamodb_table"
    name          = var.name
    arn           = local.arn
    billing_mode  = "PAY_PER_REQUEST"
    hash_key      = var.hash_key
    range_key     = var.range_key
    attributes = [
      for key in compact([var.hash_key, var.range_key]) : { name = key, type = "S" }
    ]
    server_side_encryption = {
      enabled     = true
      kms_key_arn = var.kms_key_arn
    }
    point_in_time_recovery      = true
    deletion_protection_enabled = true
    ttl                         = var.ttl_attribute == null ? null : { attribute_name = var.ttl_attribute, enabled = true }
    stream_enabled              = var.stream_enabled
    stream_view_type            = var.stream_enabled ? "NEW_AND_OLD_IMAGES" : null
    stream_arn                  = local.stream_arn
    tags                        = var.tags
  }
}

resource "terraform_data" "throttle_alarm" {
  input = {
    resource_type       = "aws_cloudwatch_metric_alarm"
    alarm_name          = "${var.name}-throttled-requests"
    namespace           = "AWS/DynamoDB"
    metric_name         = "ThrottledRequests"
    dimensions          = { TableName = terraform_data.table.output.name }
    statistic           = "Sum"
    period              = 300
    evaluation_periods  = 2
    threshold           = 10
    comparison_operator = "GreaterThanThreshold"
    alarm_actions       = [var.alarm_topic_arn]
    ok_actions          = [var.alarm_topic_arn]
  }
}
