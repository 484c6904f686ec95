//! One Terragrunt file's configuration, evaluated: inputs, dependencies, the terraform source,
//! remote state, generate blocks and everything else (kept with its place, to be listed).

use std::path::PathBuf;

use hcl_edit::Span;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Body};
use serde_json::Value;

use super::eval::{FileScope, span_of};
use super::functions::resolve;
use super::value::{Eval, PVal};
use crate::proposal::Location;

/// How an included file's settings combine with the includer's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MergeStrategy {
    /// The includer's top-level settings replace the included ones (Terragrunt's default).
    Shallow,
    /// Maps and lists merge recursively.
    Deep,
    /// Nothing merges; the include only exposes its values.
    NoMerge,
}

/// An `include` block.
#[derive(Debug, Clone)]
pub(crate) struct IncludeDecl {
    /// Its label (`""` when unlabeled).
    pub name: String,
    /// The included file.
    pub path: PathBuf,
    /// `expose = true`.
    pub expose: bool,
    /// `merge_strategy`.
    pub merge: MergeStrategy,
}

/// One entry of `inputs`.
#[derive(Debug, Clone)]
pub(crate) struct InputEntry {
    /// The variable.
    pub key: String,
    /// Its value.
    pub value: Eval<PVal>,
    /// Where it is written.
    pub loc: Location,
}

/// A `dependency` block.
#[derive(Debug, Clone)]
pub(crate) struct DependencyDecl {
    /// Its label.
    pub name: String,
    /// The upstream unit's directory.
    pub config_path: Eval<PathBuf>,
    /// `mock_outputs`.
    pub mock_outputs: Option<Eval<Value>>,
    /// `skip_outputs = true`: Terragrunt uses the mocks, never the real outputs.
    pub skip_outputs: bool,
    /// `enabled = false`.
    pub disabled: bool,
    /// Settings with no plinth equivalent, with their places.
    pub extras: Vec<(String, Location)>,
    /// The block's place.
    pub loc: Location,
}

/// The `remote_state` block.
#[derive(Debug, Clone)]
pub(crate) struct RemoteStateDecl {
    /// `backend`.
    pub backend: Eval<String>,
    /// `config` entries.
    pub config: Vec<(String, Eval<PVal>, Location)>,
    /// Other attributes (`generate`, `disable_init`…).
    pub extras: Vec<(String, Location)>,
    /// The block's place.
    pub loc: Location,
}

/// A `generate` block.
#[derive(Debug, Clone)]
pub(crate) struct GenerateDecl {
    /// Its label.
    pub name: String,
    /// The file to write, relative to the working directory.
    pub path: Eval<String>,
    /// Its contents.
    pub contents: Eval<String>,
    /// `disable = true`.
    pub disabled: bool,
    /// The block's place.
    pub loc: Location,
}

/// Everything one file sets, evaluated for one unit.
#[derive(Debug, Clone, Default)]
pub(crate) struct Config {
    /// `inputs`.
    pub inputs: Vec<InputEntry>,
    /// Where `inputs` is written, if it is.
    pub inputs_loc: Option<Location>,
    /// `dependency` blocks.
    pub dependencies: Vec<DependencyDecl>,
    /// `dependencies { paths }`.
    pub after: Option<(Vec<Eval<PathBuf>>, Location)>,
    /// `terraform { source }`.
    pub source: Option<(Eval<String>, Location)>,
    /// Other settings of the `terraform` block (hooks, extra_arguments…).
    pub terraform_extras: Vec<(String, Location)>,
    /// `remote_state`.
    pub remote_state: Option<RemoteStateDecl>,
    /// `generate` blocks.
    pub generates: Vec<GenerateDecl>,
    /// Other top-level attributes (`terraform_binary`, `prevent_destroy`, `skip`…).
    pub attrs: Vec<(String, Eval<PVal>, Location)>,
    /// Other top-level blocks (`errors`, `exclude`, `feature`…).
    pub blocks: Vec<(String, Location)>,
}

/// Evaluates the `include` blocks of `body`.
pub(crate) fn includes(scope: &FileScope<'_>, body: &Body) -> Vec<Eval<IncludeDecl>> {
    body.blocks()
        .filter(|b| b.ident.value().as_str() == "include")
        .map(|b| {
            let name = b
                .labels
                .first()
                .map(|l| l.as_str().to_string())
                .unwrap_or_default();
            let path_attr = b
                .body
                .get_attribute("path")
                .ok_or_else(|| scope.problem(b.span(), "include without `path`"))?;
            let path = scope.known_string(&path_attr.value, "an include path")?;
            let merge = match b.body.get_attribute("merge_strategy") {
                None => MergeStrategy::Shallow,
                Some(a) => match scope.known_string(&a.value, "merge_strategy")?.as_str() {
                    "deep" => MergeStrategy::Deep,
                    "no_merge" => MergeStrategy::NoMerge,
                    _ => MergeStrategy::Shallow,
                },
            };
            let expose = match b.body.get_attribute("expose") {
                Some(a) => scope.known(&a.value, "expose")? == Value::Bool(true),
                None => false,
            };
            Ok(IncludeDecl {
                name,
                path: resolve(scope.ctx.unit_dir, &path),
                expose,
                merge,
            })
        })
        .collect()
}

/// Labels of the `dependency` blocks of `body`.
pub(crate) fn dependency_names(body: &Body) -> Vec<String> {
    body.blocks()
        .filter(|b| b.ident.value().as_str() == "dependency")
        .filter_map(|b| b.labels.first().map(|l| l.as_str().to_string()))
        .collect()
}

/// Evaluates the settings of the file `scope` is for.
pub(crate) fn evaluate(scope: &FileScope<'_>) -> Config {
    let body = &scope.file.body;
    let mut c = Config::default();
    let loc = |span: Option<std::ops::Range<usize>>| scope.file.loc(span);
    for attr in body.attributes() {
        let key = attr.key.value().as_str();
        if key == "inputs" {
            c.inputs_loc = Some(loc(attr.span()));
            c.inputs = inputs(scope, &attr.value);
        } else {
            c.attrs
                .push((key.to_string(), scope.eval(&attr.value), loc(attr.span())));
        }
    }
    for block in body.blocks() {
        match block.ident.value().as_str() {
            "locals" | "include" => {}
            "dependency" => c.dependencies.push(dependency(scope, block)),
            "dependencies" => {
                let paths = match block.body.get_attribute("paths") {
                    Some(a) => match scope.eval(&a.value) {
                        Ok(PVal::Known(Value::Array(items))) => items
                            .into_iter()
                            .map(|v| match v {
                                Value::String(p) => Ok(resolve(scope.ctx.unit_dir, &p)),
                                _ => Err(scope.problem(a.span(), "`paths` must be strings")),
                            })
                            .collect(),
                        Ok(_) => vec![Err(
                            scope.problem(a.span(), "`paths` must be a list of strings")
                        )],
                        Err(p) => vec![Err(p)],
                    },
                    None => Vec::new(),
                };
                c.after = Some((paths, loc(block.span())));
            }
            "terraform" => {
                for attr in block.body.attributes() {
                    let key = attr.key.value().as_str();
                    if key == "source" {
                        c.source = Some((
                            scope.known_string(&attr.value, "the terraform source"),
                            loc(attr.span()),
                        ));
                    } else {
                        c.terraform_extras
                            .push((format!("terraform.{key}"), loc(attr.span())));
                    }
                }
                for inner in block.body.blocks() {
                    let label = inner
                        .labels
                        .first()
                        .map(|l| format!(" \"{}\"", l.as_str()))
                        .unwrap_or_default();
                    c.terraform_extras
                        .push((format!("{}{label}", inner.ident.value()), loc(inner.span())));
                }
            }
            "remote_state" => c.remote_state = Some(remote_state(scope, block)),
            "generate" => c.generates.push(generate(scope, block)),
            other => c.blocks.push((other.to_string(), loc(block.span()))),
        }
    }
    c
}

/// Inputs entry by entry when written as an object, so that one bad value keeps the others.
fn inputs(scope: &FileScope<'_>, value: &Expression) -> Vec<InputEntry> {
    if let Expression::Object(obj) = value {
        let mut out = Vec::new();
        for (key, v) in obj.iter() {
            let name = match key {
                hcl_edit::expr::ObjectKey::Ident(i) => i.value().to_string(),
                hcl_edit::expr::ObjectKey::Expression(k) => {
                    match scope.known_string(k, "an input name") {
                        Ok(n) => n,
                        Err(p) => {
                            out.push(InputEntry {
                                key: "?".into(),
                                value: Err(p),
                                loc: scope.file.loc(span_of(k)),
                            });
                            continue;
                        }
                    }
                }
            };
            out.push(InputEntry {
                key: name,
                value: scope.eval(v.expr()),
                loc: scope.file.loc(span_of(v.expr()).or_else(|| key.span())),
            });
        }
        return out;
    }
    let loc = scope.file.loc(span_of(value));
    match scope.eval(value) {
        Ok(v) => match v.entries() {
            Some(entries) => entries
                .into_iter()
                .map(|(key, value)| InputEntry {
                    key,
                    value: Ok(value),
                    loc: loc.clone(),
                })
                .collect(),
            None => vec![InputEntry {
                key: "*".into(),
                value: Err(scope.problem(span_of(value), "`inputs` is not an object")),
                loc,
            }],
        },
        Err(p) => vec![InputEntry {
            key: "*".into(),
            value: Err(p),
            loc,
        }],
    }
}

fn dependency(scope: &FileScope<'_>, block: &Block) -> DependencyDecl {
    let name = block
        .labels
        .first()
        .map(|l| l.as_str().to_string())
        .unwrap_or_default();
    let get = |k: &str| block.body.get_attribute(k);
    let config_path = match get("config_path") {
        Some(a) => scope
            .known_string(&a.value, "config_path")
            .map(|p| resolve(scope.ctx.unit_dir, &p)),
        None => Err(scope.problem(
            block.span(),
            format!("dependency \"{name}\" has no config_path"),
        )),
    };
    let flag = |k: &str| {
        get(k)
            .and_then(|a| scope.known(&a.value, k).ok())
            .and_then(|v| v.as_bool())
    };
    let mut extras = Vec::new();
    for attr in block.body.attributes() {
        let k = attr.key.value().as_str();
        if !matches!(
            k,
            "config_path" | "mock_outputs" | "skip_outputs" | "enabled"
        ) {
            extras.push((k.to_string(), scope.file.loc(attr.span())));
        }
    }
    DependencyDecl {
        config_path,
        mock_outputs: get("mock_outputs").map(|a| scope.known(&a.value, "mock_outputs")),
        skip_outputs: flag("skip_outputs").unwrap_or(false),
        disabled: flag("enabled") == Some(false),
        extras,
        loc: scope.file.loc(block.span()),
        name,
    }
}

fn remote_state(scope: &FileScope<'_>, block: &Block) -> RemoteStateDecl {
    let mut config = Vec::new();
    let mut extras = Vec::new();
    let mut backend = Err(scope.problem(block.span(), "remote_state has no backend"));
    for attr in block.body.attributes() {
        let k = attr.key.value().as_str();
        match k {
            "backend" => backend = scope.known_string(&attr.value, "the backend"),
            "config" => match &attr.value {
                Expression::Object(obj) => {
                    for (key, v) in obj.iter() {
                        let key = match key {
                            hcl_edit::expr::ObjectKey::Ident(i) => i.value().to_string(),
                            hcl_edit::expr::ObjectKey::Expression(k) => scope
                                .known_string(k, "a key")
                                .unwrap_or_else(|_| "?".into()),
                        };
                        config.push((key, scope.eval(v.expr()), scope.file.loc(span_of(v.expr()))));
                    }
                }
                other => match scope.eval(other) {
                    Ok(v) => {
                        for (key, value) in v.entries().unwrap_or_default() {
                            config.push((key, Ok(value), scope.file.loc(attr.span())));
                        }
                    }
                    Err(p) => config.push(("*".into(), Err(p), scope.file.loc(attr.span()))),
                },
            },
            other => extras.push((other.to_string(), scope.file.loc(attr.span()))),
        }
    }
    for inner in block.body.blocks() {
        extras.push((
            inner.ident.value().to_string(),
            scope.file.loc(inner.span()),
        ));
    }
    RemoteStateDecl {
        backend,
        config,
        extras,
        loc: scope.file.loc(block.span()),
    }
}

fn generate(scope: &FileScope<'_>, block: &Block) -> GenerateDecl {
    let name = block
        .labels
        .first()
        .map(|l| l.as_str().to_string())
        .unwrap_or_default();
    let string = |k: &str| match block.body.get_attribute(k) {
        Some(a) => scope.known_string(&a.value, &format!("generate `{k}`")),
        None => Err(scope.problem(block.span(), format!("generate \"{name}\" has no `{k}`"))),
    };
    GenerateDecl {
        path: string("path"),
        contents: string("contents"),
        disabled: block
            .body
            .get_attribute("disable")
            .and_then(|a| scope.known(&a.value, "disable").ok())
            == Some(Value::Bool(true)),
        loc: scope.file.loc(block.span()),
        name,
    }
}

impl Config {
    /// `self` (an included file's settings) overlaid by `child`'s, as Terragrunt merges them.
    pub fn merged_with(mut self, child: Config, strategy: MergeStrategy) -> Config {
        if strategy == MergeStrategy::NoMerge {
            return child;
        }
        for input in child.inputs {
            match self.inputs.iter_mut().find(|i| i.key == input.key) {
                Some(slot) => {
                    let deep = match (&slot.value, &input.value) {
                        (Ok(PVal::Known(a)), Ok(PVal::Known(b)))
                            if strategy == MergeStrategy::Deep =>
                        {
                            Some(deep_merge(a.clone(), b.clone()))
                        }
                        _ => None,
                    };
                    *slot = match deep {
                        Some(v) => InputEntry {
                            value: Ok(PVal::Known(v)),
                            ..input
                        },
                        None => input,
                    };
                }
                None => self.inputs.push(input),
            }
        }
        self.inputs_loc = child.inputs_loc.or(self.inputs_loc);
        for dep in child.dependencies {
            self.dependencies.retain(|d| d.name != dep.name);
            self.dependencies.push(dep);
        }
        self.after = match (self.after, child.after, strategy) {
            (Some((mut a, _)), Some((b, loc)), MergeStrategy::Deep) => {
                a.extend(b);
                Some((a, loc))
            }
            (a, b, _) => b.or(a),
        };
        if child.source.is_some() {
            self.source = child.source;
        }
        self.terraform_extras.extend(child.terraform_extras);
        if child.remote_state.is_some() {
            self.remote_state = child.remote_state;
        }
        for g in child.generates {
            self.generates.retain(|x| x.name != g.name);
            self.generates.push(g);
        }
        for attr in child.attrs {
            self.attrs.retain(|a| a.0 != attr.0);
            self.attrs.push(attr);
        }
        self.blocks.extend(child.blocks);
        self
    }

    /// A top-level attribute.
    pub fn attr(&self, name: &str) -> Option<&(String, Eval<PVal>, Location)> {
        self.attrs.iter().find(|a| a.0 == name)
    }
}

fn deep_merge(a: Value, b: Value) -> Value {
    match (a, b) {
        (Value::Object(mut a), Value::Object(b)) => {
            for (k, v) in b {
                let merged = match a.remove(&k) {
                    Some(old) => deep_merge(old, v),
                    None => v,
                };
                a.insert(k, merged);
            }
            Value::Object(a)
        }
        (Value::Array(mut a), Value::Array(b)) => {
            a.extend(b);
            Value::Array(a)
        }
        (_, b) => b,
    }
}
