stack {
  description = "Public edge API: HTTP API, custom domain, TLS certificate and WAF in front of the services"
  tags        = ["service", "edge", "public"]
}

dependency "network" {
  stack = "infra/plumbing/network"
  mock_outputs = {
    zone_id   = "ZMOCK0000000000000000"
    zone_name = "mock.atropos.example"
  }
}

dependency "licensing" {
  stack = "infra/licensing/terraform"
  mock_outputs = {
    licensing_url = "https://licensing.mock.atropos.example"
  }
}

inputs = {
  env_name      = env.name
  zone_id       = dependency.network.outputs.zone_id
  zone_name     = dependency.network.outputs.zone_name
  licensing_url = dependency.licensing.outputs.licensing_url
}
