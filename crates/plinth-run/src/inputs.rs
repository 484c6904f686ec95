//! The variables an instance receives: environment `vars`, var files, `inputs` (in that order
//! of precedence, lowest first), only for variables the stack declares, as one generated
//! var file.

use std::collections::{BTreeMap, BTreeSet};

use plinth_config::Scope;
use serde_json::{Map, Value, json};

use crate::context::RunContext;

/// An instance's resolved variables.
#[derive(Debug, Clone)]
pub struct ResolvedInputs {
    /// The generated var file's content.
    pub vars: Map<String, Value>,
    /// Dependencies whose outputs came from `mock_outputs`.
    pub mocked: Vec<String>,
    /// The upstream output values the inputs read, as `stack.output` → hash of the value
    /// (`stack.*` when an input reads a whole `outputs` object). A saved plan is stale only
    /// when one of these changed, not when the upstream state merely moved.
    pub consumed: BTreeMap<String, String>,
}

/// Why inputs could not be resolved.
#[derive(Debug, Clone)]
pub enum InputError {
    /// Nothing to plan with: upstream has no state and no mocks (status blocked).
    Blocked(String),
    /// A real error: unreadable var file or state, unknown output (status failed).
    Failed(String),
}

struct InputScope<'a> {
    project: &'a str,
    env: &'a str,
    template: &'a str,
    stack: &'a str,
    dependency: Value,
}

impl Scope for InputScope<'_> {
    fn root(&self, name: &str) -> Option<Value> {
        match name {
            "env" => Some(json!({ "name": self.env, "template": self.template })),
            "project" => Some(json!(self.project)),
            "stack" => Some(json!({ "id": self.stack })),
            "dependency" => Some(self.dependency.clone()),
            _ => None,
        }
    }
}

impl RunContext {
    /// Resolves the variables of `stack`. With `allow_mocks`, an upstream without state is
    /// replaced by its `mock_outputs` (the plan is then preview-only).
    pub async fn inputs(&self, id: &str, allow_mocks: bool) -> Result<ResolvedInputs, InputError> {
        let stack = self.project.stack(id).expect("graph stacks exist");
        let code = self.code_of(id);
        let declared = code.variables.as_ref();
        let is_declared = |name: &str| declared.is_some_and(|d| d.contains(name));
        let mut vars = Map::new();
        for (k, v) in &self.environment.vars {
            if is_declared(k) {
                vars.insert(k.clone(), v.clone());
            }
        }
        for pattern in &self.project.config.plinth.var_files {
            // Var files belong to the environment block: a copy reads its template's.
            let scope = InputScope {
                project: "",
                env: self.block(),
                template: self.block(),
                stack: id,
                dependency: Value::Null,
            };
            let Ok(Value::String(rel)) = pattern.value.evaluate(&scope) else {
                continue;
            };
            let path = stack.dir.join(&rel);
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    return Err(InputError::Failed(format!(
                        "cannot read {}: {e}",
                        path.display()
                    )));
                }
            };
            let values: Value = hcl::from_str(&text)
                .map_err(|e| InputError::Failed(format!("var file {}/{rel}: {e}", id)))?;
            for (k, v) in values.as_object().into_iter().flatten() {
                if is_declared(k) {
                    vars.insert(k.clone(), v.clone());
                }
            }
        }

        let mut deps = Map::new();
        let mut mocked = Vec::new();
        let mut consumed = BTreeMap::new();
        let reads = consumed_outputs(&stack.config);
        for (name, up) in &stack.dependencies {
            let state = self.state(up).await.map_err(InputError::Failed)?;
            let outputs = match state {
                Some(s) if !s.is_empty() => {
                    let values = s.output_values();
                    for output in reads.get(name.as_str()).into_iter().flatten() {
                        let value = match *output {
                            "*" => Some(Value::Object(values.clone())),
                            o => values.get(o).cloned(),
                        };
                        consumed.insert(format!("{up}.{output}"), value_hash(value.as_ref()));
                    }
                    Value::Object(values)
                }
                _ => {
                    let mocks = &stack
                        .config
                        .dependency(name)
                        .expect("resolved from the config")
                        .mock_outputs;
                    if !allow_mocks {
                        return Err(InputError::Blocked(format!(
                            "upstream {up} has no state; apply it first"
                        )));
                    }
                    if mocks.is_empty() {
                        return Err(InputError::Blocked(format!(
                            "upstream {up} has no state and dependency `{name}` has no mock_outputs"
                        )));
                    }
                    mocked.push(name.clone());
                    Value::Object(mocks.clone())
                }
            };
            deps.insert(name.clone(), json!({ "outputs": outputs }));
        }
        let scope = InputScope {
            project: self.project.config.project(),
            env: self.env(),
            template: self.block(),
            stack: id,
            dependency: Value::Object(deps),
        };
        for input in &stack.config.inputs {
            let value = input.value.evaluate_here(&scope).map_err(|e| {
                let (line, col) = stack.config.source.line_col(e.span.start);
                let where_ = format!("{}:{line}:{col}", stack.config.source.display_path());
                let msg = format!("{where_}: input `{}`: {}", input.name, e.message);
                if mocked.is_empty() {
                    InputError::Failed(msg)
                } else {
                    InputError::Blocked(format!("{msg} (add it to mock_outputs)"))
                }
            })?;
            vars.insert(input.name.clone(), value);
        }
        Ok(ResolvedInputs {
            vars,
            mocked,
            consumed,
        })
    }
}

/// The outputs each dependency's `inputs` read: dependency name → output names (`*` for the
/// whole `outputs` object).
fn consumed_outputs(config: &plinth_config::StackConfig) -> BTreeMap<&str, BTreeSet<&str>> {
    let mut out: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for input in &config.inputs {
        for r in input.value.value.references() {
            if r.root.value != "dependency" {
                continue;
            }
            let path = r.attr_path();
            if let [dep, "outputs", rest @ ..] = path.as_slice() {
                out.entry(dep)
                    .or_default()
                    .insert(rest.first().copied().unwrap_or("*"));
            }
        }
    }
    out
}

/// A hash of a JSON value (`absent` for an output the upstream does not have).
pub(crate) fn value_hash(value: Option<&Value>) -> String {
    use sha2::{Digest, Sha256};
    match value {
        Some(v) => hex::encode(Sha256::digest(
            serde_json::to_vec(v).expect("JSON values serialise"),
        )),
        None => "absent".to_string(),
    }
}
