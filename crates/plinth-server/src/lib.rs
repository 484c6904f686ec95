//! HTTP server: the Terraform http state backend and the JSON API.
