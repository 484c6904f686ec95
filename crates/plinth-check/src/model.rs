//! Source files parsed once into the model every rule reads.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use hcl_edit::Span;
use hcl_edit::expr::{BinaryOperator, Expression, TraversalOperator};
use hcl_edit::structure::{Block, Body};
use plinth_diag::SourceFile;

use crate::node::{Node, labels};

/// What kind of file a unit is, which decides the rules that read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// Terraform code.
    Tf,
    /// Variable values.
    Tfvars,
    /// plinth configuration (stack.hcl, plinth.hcl).
    Hcl,
}

impl FileKind {
    /// The kind of a path by its extension, if plinth reads it.
    pub fn of(path: &Path) -> Option<FileKind> {
        match path.extension()?.to_str()? {
            "tf" => Some(FileKind::Tf),
            "tfvars" => Some(FileKind::Tfvars),
            "hcl" => Some(FileKind::Hcl),
            _ => None,
        }
    }
}

/// One file: its text (BOM stripped), and its parsed body or the parse error.
pub struct SourceUnit {
    /// Text and display path shared with diagnostics.
    pub source: Arc<SourceFile>,
    /// Kind of file.
    pub kind: FileKind,
    /// Parsed body, when the file parses.
    pub body: Option<Body>,
    /// Byte offset and message of the parse error.
    pub parse_error: Option<(usize, String)>,
    /// Why the file could not be read (a dangling symlink, permissions): an environment
    /// problem, not something wrong in the code.
    pub unreadable: Option<String>,
}

impl SourceUnit {
    /// Reads and parses `path`, shown as `display`.
    pub fn load(path: &Path, display: String, kind: FileKind) -> std::io::Result<SourceUnit> {
        let text = std::fs::read_to_string(path)?;
        Ok(Self::from_text(display, text, kind))
    }

    /// Reads and parses `path`; a file that cannot be read becomes an empty unit whose
    /// error is reported instead of being skipped silently: text that is not UTF-8 is a
    /// finding in the code (FMT007), a file that cannot be opened is an environment problem.
    pub fn load_or_report(path: &Path, display: String, kind: FileKind) -> SourceUnit {
        match Self::load(path, display.clone(), kind) {
            Ok(unit) => unit,
            Err(e) => {
                let invalid = e.kind() == std::io::ErrorKind::InvalidData;
                SourceUnit {
                    source: SourceFile::new(display, String::new()),
                    kind,
                    body: None,
                    parse_error: invalid.then(|| (0, format!("cannot read the file: {e}"))),
                    unreadable: (!invalid).then(|| e.to_string()),
                }
            }
        }
    }

    /// Parses text already in memory.
    pub fn from_text(display: String, mut text: String, kind: FileKind) -> SourceUnit {
        // hcl-edit rejects a leading BOM that Go HCL (and so terraform) accepts.
        if text.starts_with('\u{feff}') {
            text.drain(..3);
        }
        // plinth's own .hcl files were parsed (and their errors reported) when the project
        // loaded; they are parsed again only when a suppression needs their structure.
        let needed = kind != FileKind::Hcl || text.contains("plinth:ignore");
        let parsed = if needed {
            Some(hcl_edit::parser::parse_body(&text))
        } else {
            None
        };
        let (body, parse_error) = match parsed {
            None => (None, None),
            Some(Ok(body)) => (Some(body), None),
            Some(Err(e)) => (None, Some((e.location().offset(), e.message().to_owned()))),
        };
        SourceUnit {
            source: SourceFile::new(display, text),
            kind,
            body,
            parse_error,
            unreadable: None,
        }
    }

    /// Top-level blocks called `ident`.
    pub fn blocks<'a>(&'a self, ident: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
        self.body.iter().flat_map(move |b| b.get_blocks(ident))
    }

    /// The source text of a span.
    pub fn text(&self, span: Range<usize>) -> &str {
        self.source.text().get(span).unwrap_or("")
    }
}

/// A resource as rules see it: real, or a `terraform_data` stand-in for another type.
pub struct ResourceView<'a> {
    /// The effective resource type (`aws_dynamodb_table` for a stand-in of one).
    pub kind: &'a str,
    /// The resource name.
    pub name: &'a str,
    /// Where its settings are.
    pub node: Node<'a>,
    /// The block, for spans.
    pub block: &'a Block,
    /// The file it is in.
    pub unit: &'a SourceUnit,
    /// Whether this is a `terraform_data` stand-in.
    pub standin: bool,
}

/// A Terraform module: a stack's root module or a local module it calls.
pub struct ModuleModel {
    /// Display path of the directory (relative to the project root).
    pub display: String,
    /// Whether this is a stack (root module) rather than a called module.
    pub is_stack: bool,
    /// The `.tf` files.
    pub tf: Vec<Arc<SourceUnit>>,
    /// Whether a README.md (any case) is present.
    pub has_readme: bool,
    /// stack.hcl, when this is a stack and has one.
    pub stack_file: Option<Arc<SourceUnit>>,
    /// The calls of this module from the modules checked, each distinct set of literal
    /// inputs once.
    pub callers: Vec<CallSite>,
}

/// One `module` block calling a local module: where it is and the literal values it
/// passes (`storage_encrypted = false`), which the callee's rules evaluate like defaults.
#[derive(Debug, Clone)]
pub struct CallSite {
    /// `file:line` of the module block and its name, for messages.
    pub from: String,
    /// Input name and literal value.
    pub inputs: Vec<(String, Expression)>,
    /// Inputs passed on from the caller's own variables (`x = var.y`): input and variable.
    pub forwarded: Vec<(String, String)>,
    /// The calling module's directory.
    pub caller_dir: std::path::PathBuf,
}

impl CallSite {
    /// The call site of `call` in `unit`, a file of the module in `caller_dir`.
    pub fn of(unit: &SourceUnit, call: &Block, caller_dir: &Path) -> CallSite {
        let name = labels(call).first().copied().unwrap_or("?");
        let (line, _) = unit
            .source
            .line_col(call.ident.span().map_or(0, |s| s.start));
        let inputs = call
            .body
            .attributes()
            .filter(|a| match &a.value {
                Expression::Bool(_)
                | Expression::Number(_)
                | Expression::String(_)
                | Expression::Null(_)
                | Expression::HeredocTemplate(_)
                | Expression::Object(_)
                | Expression::Array(_) => true,
                // Policies are passed as `jsonencode({...})`.
                Expression::FuncCall(f) => f.name.name.as_str() == "jsonencode",
                _ => false,
            })
            .map(|a| (a.key.as_str().to_owned(), a.value.clone()))
            .collect();
        let forwarded = call
            .body
            .attributes()
            .filter_map(|a| Some((a.key.as_str().to_owned(), var_name(&a.value)?.to_owned())))
            .collect();
        CallSite {
            from: format!("module `{name}` at {}:{line}", unit.source.display_path()),
            inputs,
            forwarded,
            caller_dir: caller_dir.to_path_buf(),
        }
    }

    /// This call with the values `outer` (a call of the calling module) gives the variables
    /// it forwards, if it gives any.
    pub fn through(&self, outer: &CallSite) -> Option<CallSite> {
        let mut inputs = self.inputs.clone();
        for (input, var) in &self.forwarded {
            if let Some((_, value)) = outer.inputs.iter().find(|(k, _)| k == var) {
                inputs.push((input.clone(), value.clone()));
            }
        }
        (inputs.len() > self.inputs.len()).then(|| CallSite {
            from: format!("{}, called by {}", self.from, outer.from),
            inputs,
            forwarded: Vec::new(),
            caller_dir: self.caller_dir.clone(),
        })
    }

    /// The literal inputs in a canonical text: calls with the same signature evaluate
    /// alike, so each is kept once.
    pub fn signature(&self) -> String {
        let mut parts: Vec<String> = self
            .inputs
            .iter()
            .map(|(k, v)| format!("{k}={}", v.to_string().trim()))
            .collect();
        parts.extend(self.forwarded.iter().map(|(k, v)| format!("{k}=var.{v}")));
        parts.sort();
        parts.join("\n")
    }
}

impl ModuleModel {
    /// Every resource in the module, stand-ins resolved to their type.
    pub fn resources(&self) -> Vec<ResourceView<'_>> {
        let mut out = Vec::new();
        for unit in &self.tf {
            for block in unit.blocks("resource") {
                let labels = labels(block);
                let (Some(kind), Some(name)) = (labels.first(), labels.get(1)) else {
                    continue;
                };
                if *kind == "terraform_data"
                    && let Some(found) = Node::Body(&block.body).attr("input")
                    && let Some(object) = found.value.as_object()
                    && let Some(real) = Node::Object(object).str_attr("resource_type")
                {
                    out.push(ResourceView {
                        kind: real,
                        name,
                        node: Node::Object(object),
                        block,
                        unit,
                        standin: true,
                    });
                    continue;
                }
                out.push(ResourceView {
                    kind,
                    name,
                    node: Node::Body(&block.body),
                    block,
                    unit,
                    standin: false,
                });
            }
        }
        out
    }
}

/// The defaults of a module's variables, so that rules reading `var.x` see the value a
/// caller gets unless it passes another (`block_public_acls = var.block_public_acls` with
/// `default = true` is on).
pub struct Defaults<'a> {
    values: HashMap<&'a str, &'a Expression>,
}

impl ModuleModel {
    /// The values rules evaluate the module with: the variables' defaults alone, then once
    /// per distinct caller, the defaults overridden by what that caller passes (a caller
    /// that passes nothing the module reads adds nothing).
    pub fn bindings(&self) -> Vec<(Defaults<'_>, Option<&CallSite>)> {
        let base = self.defaults();
        let mut out = Vec::new();
        for site in &self.callers {
            let mut values = base.values.clone();
            let mut changed = false;
            for (name, value) in &site.inputs {
                if let Some(slot) = values.get_mut(name.as_str()) {
                    *slot = value;
                    changed = true;
                } else if self.declares(name) {
                    values.insert(name.as_str(), value);
                    changed = true;
                }
            }
            if changed {
                out.push((Defaults { values }, Some(site)));
            }
        }
        out.insert(0, (base, None));
        out
    }

    fn declares(&self, variable: &str) -> bool {
        self.tf.iter().any(|u| {
            u.blocks("variable")
                .any(|v| labels(v).first() == Some(&variable))
        })
    }

    /// The literal defaults of the module's variables.
    pub fn defaults(&self) -> Defaults<'_> {
        let mut values = HashMap::new();
        for unit in &self.tf {
            for var in unit.blocks("variable") {
                if let Some(name) = labels(var).first()
                    && let Some(default) = var.body.get_attribute("default")
                {
                    values.insert(*name, &default.value);
                }
            }
        }
        Defaults { values }
    }
}

/// `x` when the expression is exactly `var.x`.
fn var_name(expr: &Expression) -> Option<&str> {
    if let Expression::Traversal(t) = expr
        && let Expression::Variable(root) = &t.expr
        && root.as_str() == "var"
        && let [op] = t.operators.as_slice()
        && let TraversalOperator::GetAttr(name) = op.value()
    {
        return Some(name.as_str());
    }
    None
}

impl<'a> Defaults<'a> {
    /// `var.x` replaced by its default (when it has one); any other expression as is.
    pub fn resolve(&self, expr: &'a Expression) -> &'a Expression {
        if let Some(name) = var_name(expr)
            && let Some(default) = self.values.get(name)
        {
            return default;
        }
        // `var.x != null ? a : b`, the way modules make an input optional, when `var.x`
        // is known.
        if let Expression::Conditional(c) = expr
            && let Expression::BinaryOp(op) = &c.cond_expr
            && matches!(op.rhs_expr, Expression::Null(_))
            && var_name(&op.lhs_expr).is_some()
        {
            let value = self.resolve(&op.lhs_expr);
            if !matches!(value, Expression::Traversal(_)) {
                let is_null = matches!(value, Expression::Null(_));
                let taken = match op.operator.value() {
                    BinaryOperator::Eq => is_null,
                    BinaryOperator::NotEq => !is_null,
                    _ => return expr,
                };
                return self.resolve(if taken { &c.true_expr } else { &c.false_expr });
            }
        }
        expr
    }

    /// The bool of attribute `key`, literal or through a variable default.
    pub fn bool(&self, node: Node<'a>, key: &str) -> Option<bool> {
        node.attr(key).and_then(|f| self.resolve(f.value).as_bool())
    }

    /// The string of attribute `key`, literal or through a variable default.
    pub fn str(&self, node: Node<'a>, key: &str) -> Option<&'a str> {
        node.attr(key).and_then(|f| self.resolve(f.value).as_str())
    }

    /// The integer of attribute `key`, literal or through a variable default.
    pub fn int(&self, node: Node<'a>, key: &str) -> Option<i64> {
        node.attr(key)
            .and_then(|f| self.resolve(f.value).as_number())
            .and_then(|n| n.as_i64())
    }
}
