throttling_rate_limit  = 1000
throttling_burst_limit = 2000
waf_rate_limit         = 5000
log_retention_days     = 365
cors_allowed_origins   = ["https://app.atropos.example"]
