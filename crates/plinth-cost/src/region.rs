//! The region an environment's resources run in, for regional prices.

use plinth_config::Environment;

/// The region used when an environment declares none (`vars.region`).
pub const DEFAULT_REGION: &str = "us-east-1";

/// The environment's `vars.region` when it is a string, else [`DEFAULT_REGION`].
pub fn region_of(env: &Environment) -> String {
    env.vars
        .get("region")
        .and_then(|v| v.as_str())
        .filter(|r| !r.is_empty())
        .unwrap_or(DEFAULT_REGION)
        .to_owned()
}
