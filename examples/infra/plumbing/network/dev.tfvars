vpc_cidr          = "10.10.0.0/16"
az_count          = 2
nat_gateway_count = 1
