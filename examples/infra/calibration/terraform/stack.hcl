stack {
  description = "Calibration service: DynamoDB tables, KMS key, IAM roles and alarms"
  tags        = ["service", "calibration", "data"]
  # The calibration API validates device licenses on start-up, so it rolls
  # out after the licensing worker it calls (no outputs needed).
  after = ["infra/licensing/terraform"]
}

dependency "network" {
  stack = "infra/plumbing/network"
  mock_outputs = {
    vpc_id             = "vpc-mock"
    vpc_cidr_block     = "10.0.0.0/16"
    private_subnet_ids = ["subnet-mock-a", "subnet-mock-b"]
  }
}

inputs = {
  env_name           = env.name
  vpc_id             = dependency.network.outputs.vpc_id
  vpc_cidr_block     = dependency.network.outputs.vpc_cidr_block
  private_subnet_ids = dependency.network.outputs.private_subnet_ids
}
