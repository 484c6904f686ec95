output "dashboard_url" {
  description = "Console URL of the dashboard."
  value       = "https://${var.region}.console.aws.amazon.com/cloudwatch/home?region=${var.region}#dashboards/dashboard/${terraform_data.dashboard.output.dashboard_name}"
}
