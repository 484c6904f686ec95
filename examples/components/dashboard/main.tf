locals {
  table_widgets = [
    for logical, table in var.table_names : {
      type  = "metric"
      title = "${logical}: consumed capacity and throttles"
      metrics = [
        ["AWS/DynamoDB", "ConsumedReadCapacityUnits", "TableName", table],
        ["AWS/DynamoDB", "ConsumedWriteCapacityUnits", "TableName", table],
        ["AWS/DynamoDB", "ThrottledRequests", "TableName", table],
      ]
    }
  ]
  api_widget = {
    type  = "metric"
    title = "edge API: requests, 4xx, 5xx, latency"
    metrics = [
      ["AWS/ApiGateway", "Count", "ApiId", var.api_id],
      ["AWS/ApiGateway", "4xx", "ApiId", var.api_id],
      ["AWS/ApiGateway", "5xx", "ApiId", var.api_id],
      ["AWS/ApiGateway", "Latency", "ApiId", var.api_id],
    ]
  }
}

resource "terraform_data" "dashboard" {
  input = {
    resource_type  = "aws_cloudwatch_dashboard"
    dashboard_name = var.name
    dashboard_arn  = "arn:aws:cloudwatch::${var.account_id}:dashboard/${var.name}"
    dashboard_body = jsonencode({ widgets = [for w in concat([local.api_widget], local.table_widgets) : merge(w, { region = var.region })] })
  }
}
