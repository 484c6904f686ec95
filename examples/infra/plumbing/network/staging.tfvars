vpc_cidr          = "10.20.0.0/16"
az_count          = 3
nat_gateway_count = 1
