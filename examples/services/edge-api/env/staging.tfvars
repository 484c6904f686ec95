throttling_rate_limit  = 100
throttling_burst_limit = 200
waf_rate_limit         = 2000
log_retention_days     = 30
cors_allowed_origins   = ["https://app.staging.atropos.example"]
