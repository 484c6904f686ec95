output "topic_arn" {
  description = "ARN of the on-call topic."
  value       = terraform_data.topic.output.arn
}

output "subscription_count" {
  description = "How many endpoints receive alerts."
  value       = length(terraform_data.subscription)
}
