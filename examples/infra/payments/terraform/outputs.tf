output "webhook_url" {
  description = "URL Stripe posts subscription events to."
  value       = terraform_data.webhook_endpoint.output.url
}

output "stripe_binding_name" {
  description = "Name under which the licensing worker sees the Stripe key."
  value       = terraform_data.worker_binding.output.name
}
