locals {
  name_prefix = "atropos-${var.env_name}-edge"
  hostname    = "api.${var.zone_name}"

  api_id = substr(sha1("${var.account_id}/${var.region}/${local.name_prefix}"), 0, 10)

  tags = {
    project     = "atropos"
    environment = var.env_name
    stack       = "services/edge-api"
    service     = "edge-api"
    managed_by  = "plinth"
  }
}

resource "terraform_data" "certificate" {
  input = {
    resource_type     = "aws_acm_certificate"
    domain_name       = local.hostname
    validation_method = "DNS"
    arn               = "arn:aws:acm:${var.region}:${var.account_id}:certificate/${uuidv5("dns", local.hostname)}"
    tags              = local.tags
  }
}

resource "terraform_data" "certificate_validation_record" {
  input = {
    resource_type = "aws_route53_record"
    zone_id       = var.zone_id
    name          = "_${substr(sha1(local.hostname), 0, 32)}.${local.hostname}"
    type          = "CNAME"
    ttl           = 300
    records       = ["_${substr(sha1("validation/${local.hostname}"), 0, 32)}.acm-validations.aws"]
  }
}

resource "terraform_data" "access_log_group" {
  input = {
    resource_type     = "aws_cloudwatch_log_group"
    name              = "/aws/apigateway/${local.name_prefix}"
    arn               = "arn:aws:logs:${var.region}:${var.account_id}:log-group:/aws/apigateway/${local.name_prefix}"
    retention_in_days = var.log_retention_days
  }
}

resource "terraform_data" "api" {
  input = {
    resource_type = "aws_apigatewayv2_api"
    id            = local.api_id
    name          = local.name_prefix
    protocol_type = "HTTP"
    api_endpoint  = "https://${local.api_id}.execute-api.${var.region}.amazonaws.com"
    cors_configuration = {
      allow_origins = var.cors_allowed_origins
      allow_methods = ["GET", "POST", "OPTIONS"]
    }
    tags = local.tags
  }
}

resource "terraform_data" "licensing_route" {
  input = {
    resource_type      = "aws_apigatewayv2_route"
    api_id             = terraform_data.api.output.id
    route_key          = "ANY /v1/licenses/{proxy+}"
    integration_type   = "HTTP_PROXY"
    integration_uri    = "${var.licensing_url}/v1/licenses/{proxy}"
    integration_method = "ANY"
  }
}

resource "terraform_data" "stage" {
  input = {
    resource_type          = "aws_apigatewayv2_stage"
    api_id                 = terraform_data.api.output.id
    name                   = "$default"
    auto_deploy            = true
    throttling_rate_limit  = var.throttling_rate_limit
    throttling_burst_limit = var.throttling_burst_limit
    access_log_destination = terraform_data.access_log_group.output.arn
  }
}

resource "terraform_data" "waf" {
  input = {
    resource_type = "aws_wafv2_web_acl"
    name          = local.name_prefix
    scope         = "REGIONAL"
    arn           = "arn:aws:wafv2:${var.region}:${var.account_id}:regional/webacl/${local.name_prefix}/${uuidv5("url", "waf://${local.name_prefix}")}"
    rules = [
      { name = "AWSManagedRulesCommonRuleSet", priority = 1, action = "block" },
      { name = "rate-limit-per-ip", priority = 2, action = "block", limit = var.waf_rate_limit },
    ]
  }
}

resource "terraform_data" "domain" {
  input = {
    resource_type   = "aws_apigatewayv2_domain_name"
    domain_name     = local.hostname
    certificate_arn = terraform_data.certificate.output.arn
    security_policy = "TLS_1_2"
    api_id          = terraform_data.api.output.id
    stage           = terraform_data.stage.output.name
  }
}

resource "terraform_data" "dns_record" {
  input = {
    resource_type = "aws_route53_record"
    zone_id       = var.zone_id
    name          = terraform_data.domain.output.domain_name
    type          = "A"
    alias = {
      name                   = "d-${local.api_id}.execute-api.${var.region}.amazonaws.com"
      evaluate_target_health = false
    }
  }
}
