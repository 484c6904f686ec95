output "worker_name" {
  description = "Name of the licensing Cloudflare worker."
  value       = terraform_data.worker.output.script_name
}

output "licensing_url" {
  description = "Public base URL of the licensing API."
  value       = "https://${terraform_data.dns_record.output.name}"
}

output "kv_namespace_ids" {
  description = "Workers KV namespace ids by logical name."
  value       = { for ns, r in terraform_data.kv_namespace : ns => r.output.id }
}

output "secrets_store_id" {
  description = "Cloudflare Secrets Store the worker's secret bindings read from."
  value       = terraform_data.secrets_store.output.id
}

output "audit_bucket_arn" {
  description = "ARN of the S3 bucket receiving license audit logs."
  value       = terraform_data.audit_log_bucket.output.arn
}
