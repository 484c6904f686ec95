variable "env_name" {
  type        = string
  description = "Name of the plinth environment."
}

variable "region" {
  type        = string
  description = "AWS region of the environment."
}

variable "account_id" {
  type        = string
  description = "AWS account of the environment."
}

variable "calibration_table_names" {
  type        = map(string)
  description = "Calibration tables by logical name, from infra/calibration/terraform."
}

variable "calibration_alarm_topic_arn" {
  type        = string
  description = "Calibration's alarm topic, forwarded to on-call; from infra/calibration/terraform."
}

variable "edge_api_id" {
  type        = string
  description = "HTTP API id from services/edge-api."
}
