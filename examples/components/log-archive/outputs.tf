output "bucket" {
  description = "Name of the archive bucket."
  value       = terraform_data.bucket.output.bucket
}

output "arn" {
  description = "ARN of the archive bucket."
  value       = terraform_data.bucket.output.arn
}
