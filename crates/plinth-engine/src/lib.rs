//! Driving the terraform/tofu binary: version checks, init/plan/apply, state reading.

pub mod validate;
