stack {
  description = "Foundation: shared VPC, subnets, NAT gateways and the environment's DNS zone"
  tags        = ["foundation", "network"]
}

inputs = {
  env_name = env.name
}
