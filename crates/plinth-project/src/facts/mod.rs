//! Resource facts: what the code alone says about the resources a stack manages (their type,
//! address, how many instances, and the settings written as literals), taken from the same
//! parse of every `.tf` file that `StackCode::read` already makes.
//!
//! Local modules are followed from the stack's `module` blocks, with the call's `count` or
//! `for_each` multiplying the module's resources and its literal arguments standing for the
//! module's `var.*`. A stack's own variables come from plinth at run time, so they are unknown
//! here: a count that depends on one is reported unknown, never guessed.

mod eval;
mod funcs;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use hcl_edit::Span;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Body};
use serde_json::{Map, Value};

use crate::modules::normalize;
use eval::{Scope, Val};

/// How many instances of a resource (or module call) the code declares.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InstanceCount {
    /// Exactly this many (1 without `count`/`for_each`).
    Known(u64),
    /// Not known before the engine runs; the expression that decides it (`count = var.n`).
    Unknown(String),
}

impl InstanceCount {
    /// The known count, if any.
    pub fn known(&self) -> Option<u64> {
        match self {
            InstanceCount::Known(n) => Some(*n),
            InstanceCount::Unknown(_) => None,
        }
    }

    /// This count multiplied by the count of the module call it sits in. Zero wins over unknown:
    /// a module called zero times creates nothing.
    fn times(&self, outer: &InstanceCount) -> InstanceCount {
        match (outer, self) {
            (InstanceCount::Known(0), _) | (_, InstanceCount::Known(0)) => InstanceCount::Known(0),
            (InstanceCount::Known(a), InstanceCount::Known(b)) => InstanceCount::Known(a * b),
            (InstanceCount::Unknown(why), _) | (_, InstanceCount::Unknown(why)) => {
                InstanceCount::Unknown(why.clone())
            }
        }
    }
}

/// One `resource` block as the code declares it.
#[derive(Debug, Clone)]
pub struct ResourceFact {
    /// Address without instance keys: `module.table.terraform_data.table`.
    pub address: String,
    /// The block's type label (`terraform_data` for a stand-in).
    pub kind: String,
    /// The block's name label.
    pub name: String,
    /// Instances, including the multiplicity of the module calls it sits in.
    pub count: InstanceCount,
    /// Settings whose value is known from the code; nested blocks are arrays of objects, as in
    /// plan JSON (`point_in_time_recovery = [{ enabled = true }]`).
    pub attributes: Map<String, Value>,
    /// Settings that are present but not known from the code, as dotted paths
    /// (`billing_mode`, `input.instance_class`, `scaling_config.0.desired_size`).
    pub unknown: Vec<String>,
    /// The file that declares it.
    pub file: PathBuf,
    /// 1-based line of the block.
    pub line: usize,
}

/// A `module` call whose code was not read: a registry or git source, or a local directory
/// that is missing.
#[derive(Debug, Clone)]
pub struct ModuleFact {
    /// `module.endpoints`, or nested: `module.a.module.b`.
    pub address: String,
    /// The `source` as written.
    pub source: String,
    /// Calls, including the multiplicity of enclosing module calls.
    pub count: InstanceCount,
    /// The file that declares it.
    pub file: PathBuf,
    /// 1-based line of the block.
    pub line: usize,
}

/// Everything the code says about a stack's resources.
#[derive(Debug, Clone, Default)]
pub struct CodeFacts {
    /// Resource blocks of the stack and of the local modules it calls, in file order.
    pub resources: Vec<ResourceFact>,
    /// Module calls whose code was not read.
    pub modules: Vec<ModuleFact>,
    /// `.tf` files that do not parse (the engine reports them); facts are incomplete.
    pub unparsed: Vec<PathBuf>,
}

/// A parsed `.tf` file kept until the stack is read whole.
struct ParsedFile {
    path: PathBuf,
    text: String,
    body: Body,
}

/// Collects the parsed files of a stack and its local modules, then resolves them into facts.
pub(crate) struct Collector {
    root: PathBuf,
    dirs: Vec<(PathBuf, Vec<ParsedFile>)>,
    unparsed: Vec<PathBuf>,
}

/// Module calls nest at most this deep (a cycle of local modules is an engine error).
const MAX_NESTING: usize = 12;

/// Meta-arguments and blocks that are not the resource's own settings.
const META: &[&str] = &[
    "count",
    "for_each",
    "provider",
    "depends_on",
    "lifecycle",
    "provisioner",
    "connection",
];

impl Collector {
    /// A collector for the stack in `root`.
    pub(crate) fn new(root: &Path) -> Collector {
        Collector {
            root: normalize(root),
            dirs: Vec::new(),
            unparsed: Vec::new(),
        }
    }

    /// Keeps one parsed file of directory `dir`.
    pub(crate) fn add(&mut self, dir: &Path, path: PathBuf, text: String, body: Body) {
        let dir = normalize(dir);
        let file = ParsedFile { path, text, body };
        match self.dirs.iter_mut().find(|(d, _)| *d == dir) {
            Some((_, files)) => files.push(file),
            None => self.dirs.push((dir, vec![file])),
        }
    }

    /// Notes a file that does not parse.
    pub(crate) fn unparsed(&mut self, path: PathBuf) {
        self.unparsed.push(path);
    }

    /// Resolves the collected files into facts, starting from the stack's root module.
    pub(crate) fn finish(self) -> CodeFacts {
        let indexes: Vec<DirIndex<'_>> = self
            .dirs
            .iter()
            .map(|(dir, files)| DirIndex::new(dir, files))
            .collect();
        let mut facts = CodeFacts {
            unparsed: self.unparsed.clone(),
            ..CodeFacts::default()
        };
        if let Some(root) = indexes.iter().find(|i| i.dir == self.root) {
            let frame = Frame {
                index: root,
                args: HashMap::new(),
                caller: None,
                memo: RefCell::new(HashMap::new()),
            };
            let walk = Walk {
                indexes: &indexes,
                facts: RefCell::new(&mut facts),
            };
            walk.module(&frame, "", &InstanceCount::Known(1), &mut vec![root.dir]);
        }
        facts
    }
}

/// One directory's declarations, by name.
struct DirIndex<'a> {
    dir: &'a Path,
    locals: HashMap<&'a str, &'a Expression>,
    defaults: HashMap<&'a str, &'a Expression>,
    resources: Vec<(&'a ParsedFile, &'a Block)>,
    calls: Vec<(&'a ParsedFile, &'a Block)>,
}

impl<'a> DirIndex<'a> {
    fn new(dir: &'a Path, files: &'a [ParsedFile]) -> DirIndex<'a> {
        let mut index = DirIndex {
            dir,
            locals: HashMap::new(),
            defaults: HashMap::new(),
            resources: Vec::new(),
            calls: Vec::new(),
        };
        for file in files {
            for block in file.body.blocks() {
                match block.ident.value().as_str() {
                    "locals" => index.locals.extend(
                        block
                            .body
                            .attributes()
                            .map(|a| (a.key.value().as_str(), &a.value)),
                    ),
                    "variable" => {
                        if let (Some(name), Some(default)) =
                            (block.labels.first(), block.body.get_attribute("default"))
                        {
                            index.defaults.insert(name.as_str(), &default.value);
                        }
                    }
                    "resource" if block.labels.len() == 2 => index.resources.push((file, block)),
                    "module" if block.labels.len() == 1 => index.calls.push((file, block)),
                    _ => {}
                }
            }
        }
        index
    }
}

/// A module instance being evaluated: its directory, the arguments of the call (evaluated in
/// the caller's frame) and the locals evaluated so far.
struct Frame<'a, 'p> {
    index: &'a DirIndex<'a>,
    args: HashMap<&'a str, &'a Expression>,
    caller: Option<&'p dyn Scope>,
    /// `None` while a local is being evaluated, so that a cycle ends as unknown.
    memo: RefCell<HashMap<String, Option<Val>>>,
}

impl Scope for Frame<'_, '_> {
    fn local(&self, name: &str, depth: usize) -> Val {
        if let Some(done) = self.memo.borrow().get(name) {
            return done.clone().unwrap_or(Val::Unknown);
        }
        let Some(expr) = self.index.locals.get(name) else {
            return Val::Unknown;
        };
        self.memo.borrow_mut().insert(name.to_owned(), None);
        let value = eval::eval(expr, self, depth);
        self.memo
            .borrow_mut()
            .insert(name.to_owned(), Some(value.clone()));
        value
    }

    fn var(&self, name: &str, depth: usize) -> Val {
        match (self.caller, self.args.get(name)) {
            // The stack's own variables are set by plinth per environment: unknown here.
            (None, _) => Val::Unknown,
            (Some(caller), Some(arg)) => eval::eval(arg, caller, depth),
            (Some(_), None) => self
                .index
                .defaults
                .get(name)
                .map_or(Val::Unknown, |d| eval::eval(d, self, depth)),
        }
    }
}

struct Walk<'a, 'f> {
    indexes: &'a [DirIndex<'a>],
    facts: RefCell<&'f mut CodeFacts>,
}

impl<'a> Walk<'a, '_> {
    fn module(
        &self,
        frame: &Frame<'a, '_>,
        prefix: &str,
        calls: &InstanceCount,
        path: &mut Vec<&'a Path>,
    ) {
        for (file, block) in &frame.index.resources {
            let (kind, name) = (block.labels[0].as_str(), block.labels[1].as_str());
            let mut unknown = Vec::new();
            let attributes = settings(&block.body, frame, "", &mut unknown);
            self.facts.borrow_mut().resources.push(ResourceFact {
                address: format!("{prefix}{kind}.{name}"),
                kind: kind.to_owned(),
                name: name.to_owned(),
                count: instances(block, frame, file).times(calls),
                attributes,
                unknown,
                file: file.path.clone(),
                line: line_of(file, block),
            });
        }
        for (file, block) in &frame.index.calls {
            let name = block.labels[0].as_str();
            let address = format!("{prefix}module.{name}");
            let count = instances(block, frame, file).times(calls);
            let source = match block.body.get_attribute("source").map(|a| &a.value) {
                Some(Expression::String(s)) => s.value().clone(),
                _ => String::new(),
            };
            let local = (source.starts_with("./") || source.starts_with("../"))
                .then(|| normalize(&frame.index.dir.join(&source)));
            let target = local
                .as_ref()
                .and_then(|dir| self.indexes.iter().find(|i| i.dir == dir));
            match target {
                Some(index) if path.len() < MAX_NESTING && !path.contains(&index.dir) => {
                    let child = Frame {
                        index,
                        args: block
                            .body
                            .attributes()
                            .filter(|a| {
                                !matches!(
                                    a.key.value().as_str(),
                                    "source"
                                        | "version"
                                        | "count"
                                        | "for_each"
                                        | "providers"
                                        | "depends_on"
                                )
                            })
                            .map(|a| (a.key.value().as_str(), &a.value))
                            .collect(),
                        caller: Some(frame),
                        memo: RefCell::new(HashMap::new()),
                    };
                    path.push(index.dir);
                    self.module(&child, &format!("{address}."), &count, path);
                    path.pop();
                }
                _ => self.facts.borrow_mut().modules.push(ModuleFact {
                    address,
                    source,
                    count,
                    file: file.path.clone(),
                    line: line_of(file, block),
                }),
            }
        }
    }
}

/// The instances a `resource` or `module` block declares in this frame.
fn instances(block: &Block, frame: &Frame<'_, '_>, file: &ParsedFile) -> InstanceCount {
    let unknown = |key: &str, expr: &Expression| {
        let text = expr
            .span()
            .and_then(|r| file.text.get(r))
            .unwrap_or("…")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        InstanceCount::Unknown(format!("{key} = {text}"))
    };
    if let Some(attr) = block.body.get_attribute("count") {
        return match eval::eval(&attr.value, frame, 0) {
            Val::Num(n) if n >= 0.0 && n.fract() == 0.0 => InstanceCount::Known(n as u64),
            _ => unknown("count", &attr.value),
        };
    }
    if let Some(attr) = block.body.get_attribute("for_each") {
        return match eval::eval(&attr.value, frame, 0) {
            Val::Obj(members) => InstanceCount::Known(members.len() as u64),
            // A set (from `toset`, deduplicated when its elements are known).
            Val::List(items) => InstanceCount::Known(items.len() as u64),
            _ => unknown("for_each", &attr.value),
        };
    }
    InstanceCount::Known(1)
}

/// A block body's settings as JSON: known values in the map, unknown paths in `unknown`.
fn settings(
    body: &Body,
    frame: &Frame<'_, '_>,
    prefix: &str,
    unknown: &mut Vec<String>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for attr in body.attributes() {
        let key = attr.key.value().as_str();
        if prefix.is_empty() && META.contains(&key) {
            continue;
        }
        let path = format!("{prefix}{key}");
        if let Some(v) = to_json(&eval::eval(&attr.value, frame, 0), &path, unknown) {
            out.insert(key.to_owned(), v);
        }
    }
    let mut blocks: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for block in body.blocks() {
        let ident = block.ident.value().as_str();
        if META.contains(&ident) {
            continue;
        }
        if ident == "dynamic" {
            // Generated blocks: how many, and what they hold, is for the engine to say.
            if let Some(label) = block.labels.first() {
                unknown.push(format!("{prefix}{}", label.as_str()));
            }
            continue;
        }
        let entries = blocks.entry(ident).or_default();
        let inner = format!("{prefix}{ident}.{}.", entries.len());
        entries.push(Value::Object(settings(&block.body, frame, &inner, unknown)));
    }
    for (ident, entries) in blocks {
        out.insert(ident.to_owned(), Value::Array(entries));
    }
    out
}

/// The known parts of a value; unknown parts are recorded by path and left out (an unknown
/// list element becomes `null`, so that the list keeps its length).
fn to_json(value: &Val, path: &str, unknown: &mut Vec<String>) -> Option<Value> {
    Some(match value {
        Val::Unknown => {
            unknown.push(path.to_owned());
            return None;
        }
        Val::Null => Value::Null,
        Val::Bool(b) => Value::Bool(*b),
        Val::Num(n) => serde_json::Number::from_f64(*n)
            .map(|num| {
                if n.fract() == 0.0 && n.abs() < 9e15 {
                    Value::from(*n as i64)
                } else {
                    Value::Number(num)
                }
            })
            .unwrap_or(Value::Null),
        Val::Str(s) => Value::String(s.clone()),
        Val::List(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| to_json(v, &format!("{path}.{i}"), unknown).unwrap_or(Value::Null))
                .collect(),
        ),
        Val::Obj(members) => Value::Object(
            members
                .iter()
                .filter_map(|(k, v)| {
                    Some((k.clone(), to_json(v, &format!("{path}.{k}"), unknown)?))
                })
                .collect(),
        ),
    })
}

fn line_of(file: &ParsedFile, block: &Block) -> usize {
    block.span().map_or(1, |r| {
        file.text[..r.start.min(file.text.len())]
            .matches('\n')
            .count()
            + 1
    })
}

#[cfg(test)]
mod tests;
