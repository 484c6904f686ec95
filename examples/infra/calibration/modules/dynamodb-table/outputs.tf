output "name" {
  description = "Table name."
  value       = terraform_data.table.output.name
}

output "arn" {
  description = "Table ARN."
  value       = terraform_data.table.output.arn
}

output "stream_arn" {
  description = "ARN of the table's stream, or null when streams are off."
  value       = terraform_data.table.output.stream_arn
}

output "alarm_name" {
  description = "Name of the throttling alarm."
  value       = terraform_data.throttle_alarm.output.alarm_name
}
