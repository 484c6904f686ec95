stack {
  description  = "Observability for staging: log archive, on-call alerting and the service dashboard"
  environments = ["staging"]
  tags         = ["observability"]
}

dependency "calibration" {
  stack = "infra/calibration/terraform"
  mock_outputs = {
    table_names = {
      consent     = "atropos-mock-calibration-consent"
      calibration = "atropos-mock-calibration-calibration"
      "fp-events" = "atropos-mock-calibration-fp-events"
    }
    alarm_topic_arn = "arn:aws:sns:us-east-1:mock:atropos-mock-calibration-alarms"
  }
}

dependency "edge_api" {
  stack        = "services/edge-api"
  mock_outputs = { api_id = "mockapi000" }
}

inputs = {
  env_name                    = env.name
  calibration_table_names     = dependency.calibration.outputs.table_names
  calibration_alarm_topic_arn = dependency.calibration.outputs.alarm_topic_arn
  edge_api_id                 = dependency.edge_api.outputs.api_id
}
