vpc_cidr          = "10.30.0.0/16"
az_count          = 3
nat_gateway_count = 3
