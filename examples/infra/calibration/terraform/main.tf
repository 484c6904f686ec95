locals {
  name_prefix = "atropos-${var.env_name}-calibration"

  tags = {
    project     = "atropos"
    environment = var.env_name
    stack       = "infra/calibration/terraform"
    service     = "calibration"
    managed_by  = "plinth"
  }

  kms_key_id  = uuidv5("url", "kms://${var.account_id}/${var.region}/${local.name_prefix}")
  kms_key_arn = "arn:aws:kms:${var.region}:${var.account_id}:key/${local.kms_key_id}"

  tables = {
    consent = {
      hash_key       = "subject_id"
      range_key      = "consent_type"
      ttl_attribute  = null
      stream_enabled = false
    }
    calibration = {
      hash_key       = "device_id"
      range_key      = "calibrated_at"
      ttl_attribute  = null
      stream_enabled = false
    }
    fp-events = {
      hash_key       = "event_id"
      range_key      = null
      ttl_attribute  = "expires_at"
      stream_enabled = true
    }
  }
}

resource "terraform_data" "kms_key" {
  input = {
    resource_type           = "aws_kms_key"
    key_id                  = local.kms_key_id
    arn                     = local.kms_key_arn
    description             = "Encrypts the calibration service's tables and topics"
    key_usage               = "ENCRYPT_DECRYPT"
    enable_key_rotation     = true
    rotation_period_in_days = 365
    deletion_window_in_days = 30
    tags                    = local.tags
  }
}

resource "terraform_data" "kms_alias" {
  input = {
    resource_type = "aws_kms_alias"
    name          = "alias/${local.name_prefix}"
    target_key_id = terraform_data.kms_key.output.key_id
  }
}

resource "terraform_data" "alarm_topic" {
  input = {
    resource_type     = "aws_sns_topic"
    name              = "${local.name_prefix}-alarms"
    arn               = "arn:aws:sns:${var.region}:${var.account_id}:${local.name_prefix}-alarms"
    kms_master_key_id = terraform_data.kms_key.output.arn
    tags              = local.tags
  }
}

module "table" {
  source   = "../modules/dynamodb-table"
  for_each = local.tables

  name            = "${local.name_prefix}-${each.key}"
  region          = var.region
  account_id      = var.account_id
  hash_key        = each.value.hash_key
  range_key       = each.value.range_key
  ttl_attribute   = each.value.ttl_attribute
  stream_enabled  = each.value.stream_enabled
  kms_key_arn     = terraform_data.kms_key.output.arn
  alarm_topic_arn = terraform_data.alarm_topic.output.arn
  tags            = merge(local.tags, { table = each.key })
}

resource "terraform_data" "dynamodb_endpoint" {
  input = {
    resource_type     = "aws_vpc_endpoint"
    vpc_id            = var.vpc_id
    service_name      = "com.amazonaws.${var.region}.dynamodb"
    vpc_endpoint_type = "Gateway"
    tags              = local.tags
  }
}

resource "terraform_data" "api_security_group" {
  input = {
    resource_type = "aws_security_group"
    name          = "${local.name_prefix}-api"
    vpc_id        = var.vpc_id
    ingress = [
      { description = "HTTPS from inside the VPC", protocol = "tcp", from_port = 8443, to_port = 8443, cidr_blocks = [var.vpc_cidr_block] },
    ]
    egress = [
      { description = "HTTPS to AWS APIs and licensing", protocol = "tcp", from_port = 443, to_port = 443, cidr_blocks = ["0.0.0.0/0"] },
    ]
    tags = local.tags
  }
}

resource "terraform_data" "api_role" {
  input = {
    resource_type = "aws_iam_role"
    name          = "${local.name_prefix}-api"
    arn           = "arn:aws:iam::${var.account_id}:role/${local.name_prefix}-api"
    assume_role_principal = {
      Service = "ecs-tasks.amazonaws.com"
    }
    inline_policy = {
      Version = "2012-10-17"
      Statement = [
        {
          Sid      = "Tables"
          Effect   = "Allow"
          Action   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"]
          Resource = [module.table["consent"].arn, module.table["calibration"].arn]
        },
        {
          Sid      = "PublishEvents"
          Effect   = "Allow"
          Action   = ["dynamodb:PutItem"]
          Resource = [module.table["fp-events"].arn]
        },
        {
          Sid      = "Decrypt"
          Effect   = "Allow"
          Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
          Resource = [terraform_data.kms_key.output.arn]
        },
      ]
    }
    tags = local.tags
  }
}

resource "terraform_data" "api_service" {
  input = {
    resource_type = "aws_ecs_service"
    name          = "${local.name_prefix}-api"
    launch_type   = "FARGATE"
    desired_count = 2
    task_role_arn = terraform_data.api_role.output.arn
    network_configuration = {
      subnets          = var.private_subnet_ids
      security_groups  = [terraform_data.api_security_group.output.name]
      assign_public_ip = false
    }
    environment = {
      CONSENT_TABLE     = module.table["consent"].name
      CALIBRATION_TABLE = module.table["calibration"].name
      FP_EVENTS_TABLE   = module.table["fp-events"].name
    }
    tags = local.tags
  }
}

resource "terraform_data" "fp_events_consumer_role" {
  input = {
    resource_type = "aws_iam_role"
    name          = "${local.name_prefix}-fp-events-consumer"
    arn           = "arn:aws:iam::${var.account_id}:role/${local.name_prefix}-fp-events-consumer"
    assume_role_principal = {
      Service = "lambda.amazonaws.com"
    }
    inline_policy = {
      Version = "2012-10-17"
      Statement = [
        {
          Sid      = "ReadStream"
          Effect   = "Allow"
          Action   = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"]
          Resource = [module.table["fp-events"].stream_arn]
        },
        {
          Sid      = "Decrypt"
          Effect   = "Allow"
          Action   = ["kms:Decrypt"]
          Resource = [terraform_data.kms_key.output.arn]
        },
      ]
    }
    tags = local.tags
  }
}

resource "terraform_data" "consumer_errors_alarm" {
  input = {
    resource_type       = "aws_cloudwatch_metric_alarm"
    alarm_name          = "${local.name_prefix}-fp-events-consumer-errors"
    namespace           = "AWS/Lambda"
    metric_name         = "Errors"
    dimensions          = { FunctionName = "${local.name_prefix}-fp-events-consumer" }
    statistic           = "Sum"
    period              = 300
    evaluation_periods  = 1
    threshold           = 5
    comparison_operator = "GreaterThanOrEqualToThreshold"
    alarm_actions       = [terraform_data.alarm_topic.output.arn]
  }
}

resource "terraform_data" "consumer_iterator_age_alarm" {
  input = {
    resource_type       = "aws_cloudwatch_metric_alarm"
    alarm_name          = "${local.name_prefix}-fp-events-iterator-age"
    namespace           = "AWS/Lambda"
    metric_name         = "IteratorAge"
    dimensions          = { FunctionName = "${local.name_prefix}-fp-events-consumer" }
    statistic           = "Maximum"
    period              = 300
    evaluation_periods  = 3
    threshold           = 60000
    comparison_operator = "GreaterThanThreshold"
    alarm_actions       = [terraform_data.alarm_topic.output.arn]
  }
}
