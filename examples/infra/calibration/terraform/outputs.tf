output "table_names" {
  description = "DynamoDB table names by logical name (consent, calibration, fp-events)."
  value       = { for name, table in module.table : name => table.name }
}

output "table_arns" {
  description = "DynamoDB table ARNs by logical name."
  value       = { for name, table in module.table : name => table.arn }
}

output "fp_events_stream_arn" {
  description = "Stream of the fp-events table, consumed by the fingerprint pipeline."
  value       = module.table["fp-events"].stream_arn
}

output "kms_key_arn" {
  description = "ARN of the service's customer-managed KMS key."
  value       = terraform_data.kms_key.output.arn
}

output "api_role_arn" {
  description = "IAM role assumed by the calibration API's tasks."
  value       = terraform_data.api_role.output.arn
}

output "alarm_topic_arn" {
  description = "SNS topic receiving the service's alarms."
  value       = terraform_data.alarm_topic.output.arn
}

output "alarm_names" {
  description = "Every CloudWatch alarm of the service."
  value = concat(
    [for table in module.table : table.alarm_name],
    [terraform_data.consumer_errors_alarm.output.alarm_name, terraform_data.consumer_iterator_age_alarm.output.alarm_name],
  )
}
