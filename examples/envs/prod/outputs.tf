output "log_archive_bucket" {
  description = "Bucket receiving the environment's archived logs."
  value       = module.log_archive.bucket
}

output "oncall_topic_arn" {
  description = "SNS topic paging the on-call engineer."
  value       = module.alerting.topic_arn
}

output "dashboard_url" {
  description = "Console URL of the environment's dashboard."
  value       = module.dashboard.dashboard_url
}
