stack {
  description = "Licensing service: Cloudflare worker, KV namespaces and secret bindings"
  tags        = ["service", "licensing"]
}

# Seed 000's deploy step: the worker is deployed with the binding names Terraform reports.
hooks {
  after_apply = ["sh ../scripts/deploy-worker.sh"]
  timeout     = "2m"
}

dependency "network" {
  stack = "infra/plumbing/network"
  mock_outputs = {
    zone_id   = "ZMOCK0000000000000000"
    zone_name = "mock.atropos.example"
  }
}

inputs = {
  env_name  = env.name
  zone_id   = dependency.network.outputs.zone_id
  zone_name = dependency.network.outputs.zone_name
}
