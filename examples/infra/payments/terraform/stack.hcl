stack {
  description  = "Payments for the licensing worker: the Stripe key in its secrets store and the webhook endpoint"
  environments = ["staging", "prod"]
  tags         = ["service", "licensing", "payments"]
}

dependency "licensing" {
  stack = "infra/licensing/terraform"
  mock_outputs = {
    worker_name      = "atropos-mock-licensing"
    licensing_url    = "https://licensing.mock.atropos.example"
    secrets_store_id = "00000000000000000000000000000000"
  }
}

inputs = {
  env_name         = env.name
  worker_name      = dependency.licensing.outputs.worker_name
  licensing_url    = dependency.licensing.outputs.licensing_url
  secrets_store_id = dependency.licensing.outputs.secrets_store_id
}
