output "api_url" {
  description = "Public URL of the edge API."
  value       = "https://${terraform_data.dns_record.output.name}"
}

output "api_id" {
  description = "Id of the API Gateway HTTP API."
  value       = terraform_data.api.output.id
}

output "api_endpoint" {
  description = "Default execute-api endpoint of the HTTP API."
  value       = terraform_data.api.output.api_endpoint
}

output "certificate_arn" {
  description = "ACM certificate of the API's custom domain."
  value       = terraform_data.certificate.output.arn
}

output "web_acl_arn" {
  description = "WAF web ACL protecting the API."
  value       = terraform_data.waf.output.arn
}

output "access_log_group" {
  description = "CloudWatch log group of the API's access logs."
  value       = terraform_data.access_log_group.output.name
}
