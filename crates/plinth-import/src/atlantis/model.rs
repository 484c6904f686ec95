//! The parts of `atlantis.yaml` (repo config, version 3) a conversion reads; every other key
//! is kept so that it can be listed.

use std::collections::BTreeMap;

use serde::Deserialize;
use yaml_serde::Value;

/// The whole file.
#[derive(Debug, Deserialize)]
pub(crate) struct RepoConfig {
    pub version: Option<u64>,
    #[serde(default)]
    pub projects: Vec<Project>,
    #[serde(default)]
    pub workflows: BTreeMap<String, Workflow>,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// One project.
#[derive(Debug, Deserialize)]
pub(crate) struct Project {
    pub name: Option<String>,
    pub dir: String,
    pub workspace: Option<String>,
    pub workflow: Option<String>,
    pub autoplan: Option<Autoplan>,
    pub apply_requirements: Option<Vec<String>>,
    pub depends_on: Option<Vec<String>>,
    pub terraform_version: Option<String>,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// `autoplan`.
#[derive(Debug, Deserialize)]
pub(crate) struct Autoplan {
    pub enabled: Option<bool>,
    pub when_modified: Option<Vec<String>>,
}

/// A custom workflow.
#[derive(Debug, Deserialize)]
pub(crate) struct Workflow {
    pub plan: Option<Stage>,
    pub apply: Option<Stage>,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// A workflow stage.
#[derive(Debug, Deserialize)]
pub(crate) struct Stage {
    #[serde(default)]
    pub steps: Vec<Value>,
}

/// A step, as Atlantis reads it: a built-in name, or a one-key map.
#[derive(Debug)]
pub(crate) enum StepKind<'a> {
    /// `init`, `plan`, `apply`, `show`…, with `extra_args`.
    Builtin(&'a str, Vec<String>),
    /// `run: COMMAND`.
    Run(String),
    /// `env: {name, value|command}`.
    Env(String),
    /// Anything else.
    Other(String),
}

/// Reads one step.
pub(crate) fn step(value: &Value) -> StepKind<'_> {
    match value {
        Value::String(s) => StepKind::Builtin(s.as_str(), Vec::new()),
        Value::Mapping(m) if m.len() == 1 => {
            let (k, v) = m.iter().next().expect("one entry");
            let key = k.as_str().unwrap_or("?");
            match key {
                "run" => StepKind::Run(match v {
                    Value::String(s) => s.clone(),
                    Value::Mapping(m) => m
                        .get("shell")
                        .or_else(|| m.get("command"))
                        .and_then(Value::as_str)
                        .unwrap_or("?")
                        .to_string(),
                    _ => "?".into(),
                }),
                "env" => StepKind::Env(
                    v.get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("?")
                        .to_string(),
                ),
                "init" | "plan" | "apply" | "show" | "policy_check" | "import" | "state_rm" => {
                    let args = v
                        .get("extra_args")
                        .and_then(Value::as_sequence)
                        .map(|s| {
                            s.iter()
                                .filter_map(|a| a.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default();
                    let name: &str = match key {
                        "init" => "init",
                        "plan" => "plan",
                        "apply" => "apply",
                        "show" => "show",
                        "import" => "import",
                        "state_rm" => "state_rm",
                        _ => "policy_check",
                    };
                    StepKind::Builtin(name, args)
                }
                other => StepKind::Other(other.to_string()),
            }
        }
        _ => StepKind::Other("?".into()),
    }
}
