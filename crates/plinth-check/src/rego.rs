//! Team policies in Rego, evaluated in process (regorus) on a plan's JSON with conftest's
//! conventions: rules named `deny`, `violation` or `warn` (or prefixed `deny_…`, `warn_…`,
//! `violation_…`) in package `main`, whose values are messages (strings, or objects with a
//! `msg`). Both Rego syntaxes load: v1 (`deny contains msg if …`) and, as conftest still
//! accepts, v0 (`deny[msg] { … }`).

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

/// The folder a project's policies live in when no `policy` block names paths.
pub const DEFAULT_POLICY_DIR: &str = "policies";

/// conftest's default namespace.
pub const DEFAULT_NAMESPACE: &str = "main";

/// What a policy rule asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// `deny`/`violation`: blocks apply in protected environments until an owner approves.
    Deny,
    /// `warn`: reported only.
    Warn,
}

impl PolicyKind {
    /// `deny` or `warn`.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyKind::Deny => "deny",
            PolicyKind::Warn => "warn",
        }
    }
}

/// One message a policy rule produced for a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyFinding {
    /// The policy's name (the `policy "NAME"` block label).
    pub policy: String,
    /// The Rego package, e.g. `main`.
    pub package: String,
    /// The rule that produced it, e.g. `deny` or `warn_tags`.
    pub rule: String,
    /// Deny or warn.
    pub kind: PolicyKind,
    /// The rule's message.
    pub message: String,
}

/// Why policies could not be loaded or evaluated.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// A path could not be read.
    #[error("policy `{policy}`: cannot read {}: {message}", path.display())]
    Read {
        /// Policy name.
        policy: String,
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        message: String,
    },
    /// A `.rego` file does not parse.
    #[error("policy `{policy}`: {}:{line}:{column}: {message}", path.display())]
    Parse {
        /// Policy name.
        policy: String,
        /// The file.
        path: PathBuf,
        /// 1-based line (0 when regorus gave none).
        line: usize,
        /// 1-based column (0 when regorus gave none).
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// The paths hold no `.rego` file.
    #[error("policy `{policy}`: no .rego file under {}", paths_list(paths))]
    Empty {
        /// Policy name.
        policy: String,
        /// The paths searched.
        paths: Vec<PathBuf>,
    },
    /// No file declares a package the policy evaluates, so it could never deny anything.
    #[error(
        "policy `{policy}`: no .rego file declares package {}; conftest evaluates package `main` by default",
        namespaces.join(" or ")
    )]
    NoPackage {
        /// Policy name.
        policy: String,
        /// The packages looked for.
        namespaces: Vec<String>,
    },
    /// Evaluation failed (a builtin error, a conflict between rule values).
    #[error("policy `{policy}`: evaluation failed: {message}")]
    Eval {
        /// Policy name.
        policy: String,
        /// regorus' message.
        message: String,
    },
}

fn paths_list(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A loaded policy: every `.rego` file under its paths, parsed once; evaluate it on as many
/// plans as needed.
#[derive(Clone)]
pub struct PolicySet {
    name: String,
    namespaces: Vec<String>,
    files: Vec<PathBuf>,
    engine: regorus::Engine,
}

impl std::fmt::Debug for PolicySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicySet")
            .field("name", &self.name)
            .field("namespaces", &self.namespaces)
            .field("files", &self.files)
            .finish()
    }
}

/// `main` or `main.sub` -> whether it is a plain dotted package name.
fn valid_namespace(ns: &str) -> bool {
    static NS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$").expect("valid")
    });
    NS.is_match(ns)
}

impl PolicySet {
    /// Loads policy `name` from `paths` (files, or directories searched recursively for
    /// `.rego` files; `*_test.rego` files are skipped as conftest's `test` does not run
    /// them), evaluating package `main`.
    pub fn load(name: &str, paths: &[PathBuf]) -> Result<PolicySet, PolicyError> {
        Self::load_namespaces(name, paths, &[DEFAULT_NAMESPACE])
    }

    /// Like `load`, evaluating the given packages (conftest's `--namespace`).
    pub fn load_namespaces(
        name: &str,
        paths: &[PathBuf],
        namespaces: &[&str],
    ) -> Result<PolicySet, PolicyError> {
        let mut files = Vec::new();
        for path in paths {
            collect_rego(name, path, &mut files)?;
        }
        files.sort();
        files.dedup();
        if files.is_empty() {
            return Err(PolicyError::Empty {
                policy: name.to_owned(),
                paths: paths.to_vec(),
            });
        }
        let mut engine = regorus::Engine::new();
        let mut packages = Vec::new();
        for file in &files {
            let text = std::fs::read_to_string(file).map_err(|e| PolicyError::Read {
                policy: name.to_owned(),
                path: file.clone(),
                message: e.to_string(),
            })?;
            packages.push(add_policy(&mut engine, name, file, text)?);
        }
        let namespaces: Vec<String> = namespaces
            .iter()
            .filter(|ns| valid_namespace(ns))
            .map(|ns| (*ns).to_owned())
            .collect();
        if !namespaces
            .iter()
            .any(|ns| packages.iter().any(|p| p == &format!("data.{ns}")))
        {
            return Err(PolicyError::NoPackage {
                policy: name.to_owned(),
                namespaces,
            });
        }
        Ok(PolicySet {
            name: name.to_owned(),
            namespaces,
            files,
            engine,
        })
    }

    /// The policy's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The `.rego` files loaded, sorted.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Evaluates the policy on one plan (`terraform show -json` output). Findings come in
    /// package, rule and message order, so reports are stable.
    pub fn evaluate(&self, plan_json: &Value) -> Result<Vec<PolicyFinding>, PolicyError> {
        // A clone shares the parsed modules; each evaluation gets its own input.
        let mut engine = self.engine.clone();
        engine.set_input(regorus::Value::from(plan_json.clone()));
        let mut out = Vec::new();
        for ns in &self.namespaces {
            let results = engine
                .eval_query(format!("data.{ns}"), false)
                .map_err(|e| PolicyError::Eval {
                    policy: self.name.clone(),
                    message: first_error_line(&e.to_string()),
                })?;
            let Some(value) = results
                .result
                .first()
                .and_then(|r| r.expressions.first())
                .map(|e| &e.value)
            else {
                continue;
            };
            let doc = serde_json::to_value(value).unwrap_or(Value::Null);
            let Some(rules) = doc.as_object() else {
                continue;
            };
            for (rule, value) in rules {
                let Some(kind) = rule_kind(rule) else {
                    continue;
                };
                let mut messages = messages_of(rule, value);
                messages.sort();
                messages.dedup();
                out.extend(messages.into_iter().map(|message| PolicyFinding {
                    policy: self.name.clone(),
                    package: ns.clone(),
                    rule: rule.clone(),
                    kind,
                    message,
                }));
            }
        }
        out.sort_by(|a, b| {
            (&a.package, &a.rule, &a.message).cmp(&(&b.package, &b.rule, &b.message))
        });
        Ok(out)
    }
}

/// The directory of default policies under a project root, when it holds any `.rego` file.
pub fn default_paths(root: &Path) -> Option<PathBuf> {
    let dir = root.join(DEFAULT_POLICY_DIR);
    let mut files = Vec::new();
    collect_rego("", &dir, &mut files).ok()?;
    (!files.is_empty()).then_some(dir)
}

fn collect_rego(policy: &str, path: &Path, out: &mut Vec<PathBuf>) -> Result<(), PolicyError> {
    let read_error = |e: std::io::Error| PolicyError::Read {
        policy: policy.to_owned(),
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let meta = std::fs::metadata(path).map_err(read_error)?;
    if meta.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    for entry in std::fs::read_dir(path).map_err(read_error)? {
        let entry = entry.map_err(read_error)?;
        let child = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        if child.is_dir() {
            collect_rego(policy, &child, out)?;
        } else if name.ends_with(".rego") && !name.ends_with("_test.rego") {
            out.push(child);
        }
    }
    Ok(())
}

/// Parses one file as Rego v1, falling back to v0 (conftest's older syntax). When both
/// fail, the v1 error is reported unless the file is clearly v0 (it then gets the v0 one).
fn add_policy(
    engine: &mut regorus::Engine,
    policy: &str,
    file: &Path,
    text: String,
) -> Result<String, PolicyError> {
    let shown = file.display().to_string();
    engine.set_rego_v0(false);
    let v1 = engine.add_policy(shown.clone(), text.clone());
    let v1_error = match v1 {
        Ok(package) => return Ok(package),
        Err(e) => e.to_string(),
    };
    engine.set_rego_v0(true);
    let v0 = engine.add_policy(shown, text.clone());
    engine.set_rego_v0(false);
    let v0_error = match v0 {
        Ok(package) => return Ok(package),
        Err(e) => e.to_string(),
    };
    let looks_v1 =
        text.contains("import rego.v1") || text.contains(" if ") || text.contains(" contains ");
    let raw = if looks_v1 { v1_error } else { v0_error };
    let (line, column, message) = parse_location(&raw);
    Err(PolicyError::Parse {
        policy: policy.to_owned(),
        path: file.to_path_buf(),
        line,
        column,
        message,
    })
}

/// regorus errors read `--> file:line:col`, the source line, a caret, then `error: …`.
fn parse_location(raw: &str) -> (usize, usize, String) {
    static AT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"-->\s*.*:(\d+):(\d+)").expect("valid"));
    let (line, column) = AT
        .captures(raw)
        .map(|c| (c[1].parse().unwrap_or(0), c[2].parse().unwrap_or(0)))
        .unwrap_or((0, 0));
    let message = raw
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("error:").map(|m| m.trim().to_owned()))
        .unwrap_or_else(|| first_error_line(raw));
    (line, column, message)
}

fn first_error_line(raw: &str) -> String {
    raw.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .to_owned()
}

/// conftest's rule names: `deny`, `violation`, `warn`, alone or with a `_suffix`.
fn rule_kind(rule: &str) -> Option<PolicyKind> {
    let base = rule.split_once('_').map_or(rule, |(b, _)| b);
    match base {
        "deny" | "violation" => Some(PolicyKind::Deny),
        "warn" => Some(PolicyKind::Warn),
        _ => None,
    }
}

/// The messages of a rule's value: a set (arrays after serialisation) of strings or of
/// objects with `msg`, a single string, or `true` for a boolean rule.
fn messages_of(rule: &str, value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().flat_map(|v| messages_of(rule, v)).collect(),
        Value::String(s) => vec![s.clone()],
        Value::Object(o) => match o.get("msg") {
            Some(Value::String(s)) => vec![s.clone()],
            _ => vec![Value::Object(o.clone()).to_string()],
        },
        Value::Bool(true) => vec![format!("`{rule}` is true")],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conftest_rule_names() {
        assert_eq!(rule_kind("deny"), Some(PolicyKind::Deny));
        assert_eq!(rule_kind("violation_tags"), Some(PolicyKind::Deny));
        assert_eq!(rule_kind("warn_cost"), Some(PolicyKind::Warn));
        assert_eq!(rule_kind("denylist"), None);
        assert_eq!(rule_kind("allow"), None);
    }

    #[test]
    fn messages_from_strings_objects_and_booleans() {
        let v = serde_json::json!(["b", {"msg": "a", "details": {}}]);
        assert_eq!(messages_of("deny", &v), vec!["b", "a"]);
        assert_eq!(
            messages_of("deny", &Value::Bool(true)),
            vec!["`deny` is true"]
        );
        assert!(messages_of("deny", &Value::Bool(false)).is_empty());
    }
}

#[cfg(test)]
mod send_sync {
    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn a_policy_set_can_be_shared_across_plan_threads() {
        assert_send_sync::<super::PolicySet>();
    }
}
