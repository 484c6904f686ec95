throttling_rate_limit  = 20
throttling_burst_limit = 40
waf_rate_limit         = 1000
log_retention_days     = 7
cors_allowed_origins   = ["http://localhost:3000", "https://app.dev.atropos.example"]
