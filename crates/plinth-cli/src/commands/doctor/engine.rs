//! The engine: found where plinth.hcl says, and its version within `engine_version`.

use plinth_engine::{Engine, EngineError};

use super::{Doctor, Finding};

/// `engine` runs and satisfies `engine_version`.
pub(super) fn check(d: &Doctor) -> Vec<Finding> {
    let what = "engine";
    let (spec, constraint) = match &d.config {
        Some(c) => (
            c.plinth.engine.value.clone(),
            c.plinth.engine_version.as_ref().map(|v| v.value.clone()),
        ),
        None => ("terraform".to_string(), None),
    };
    let finding = match Engine::locate(&spec, d.base(), constraint.as_deref()) {
        Ok(engine) => Finding::ok(
            what,
            format!(
                "{spec} {} at {}{}",
                engine.version,
                engine.binary.display(),
                constraint
                    .map(|c| format!(", satisfies engine_version \"{c}\""))
                    .unwrap_or_default()
            ),
        ),
        Err(EngineError::WrongVersion {
            binary,
            found,
            wanted,
        }) => Finding::fail(
            what,
            format!("{binary} is {found}, outside engine_version \"{wanted}\""),
            format!(
                "install a {spec} matching \"{wanted}\" first on PATH, or change engine_version in plinth.hcl"
            ),
        ),
        Err(EngineError::Constraint(e)) => Finding::fail(
            what,
            format!("engine_version: {e}"),
            "write engine_version like \">= 1.6\" or \"~> 1.9.0\"",
        ),
        Err(e) => Finding::fail(
            what,
            e.to_string(),
            if spec.contains('/') {
                format!("point `engine` in plinth.hcl at a terraform or tofu binary (now {spec:?})")
            } else {
                format!(
                    "install {spec} and put it on PATH, or set `engine` in plinth.hcl to its path"
                )
            },
        ),
    };
    vec![finding]
}
