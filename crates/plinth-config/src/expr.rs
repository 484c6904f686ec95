//! The small expression language of plinth's files: literals, lists, maps, string templates
//! and references such as `env.name` or `dependency.network.outputs.vpc_id`.
//!
//! Terraform's function library is deliberately absent: values are computed in Terraform code,
//! plinth only wires them. Anything else is rejected at parse time with its span.

use std::ops::Range;
use std::sync::Arc;

use hcl_edit::Span;
use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};
use hcl_edit::template::Element;
use plinth_diag::{Diagnostic, SourceFile};
use serde_json::{Map, Value};

use crate::Spanned;

/// An expression as written in `plinth.hcl` or `stack.hcl`.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A literal value (null, bool, number, string without interpolation).
    Literal(Value),
    /// A string with `${…}` interpolations.
    Template(Vec<Part>),
    /// A list.
    Array(Vec<Spanned<Expr>>),
    /// A map with literal keys.
    Object(Vec<(String, Spanned<Expr>)>),
    /// A reference to a value known at run time.
    Ref(Reference),
    /// `getenv("NAME")` or `getenv("NAME", "default")`: a value CI provides.
    Getenv {
        /// The environment variable.
        name: String,
        /// The value when it is unset.
        default: Option<String>,
    },
}

/// One piece of a string template.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    /// Literal text.
    Text(String),
    /// An interpolated expression.
    Interp(Spanned<Expr>),
}

/// A traversal like `dependency.network.outputs.vpc_id` or `env.name`.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// The root variable (`env`, `dependency`, `project`, `stack`).
    pub root: Spanned<String>,
    /// Attribute and index steps after the root.
    pub steps: Vec<Spanned<Step>>,
}

/// One step of a reference.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// `.name`
    Attr(String),
    /// `[0]` or `["key"]`
    Index(Value),
}

impl Reference {
    /// The reference written back as HCL (`dependency.network.outputs.vpc_id`).
    pub fn display(&self) -> String {
        let mut s = self.root.value.clone();
        for step in &self.steps {
            match &step.value {
                Step::Attr(a) => {
                    s.push('.');
                    s.push_str(a);
                }
                Step::Index(Value::String(k)) => s.push_str(&format!("[{k:?}]")),
                Step::Index(v) => s.push_str(&format!("[{v}]")),
            }
        }
        s
    }

    /// The attribute names of the first `n` steps (fewer when a step is an index).
    pub fn attr_path(&self) -> Vec<&str> {
        self.steps
            .iter()
            .map_while(|s| match &s.value {
                Step::Attr(a) => Some(a.as_str()),
                Step::Index(_) => None,
            })
            .collect()
    }
}

impl Expr {
    /// Converts an hcl-edit expression; unsupported constructs become diagnostics.
    pub fn lower(expr: &Expression, source: &Arc<SourceFile>) -> Result<Spanned<Expr>, Diagnostic> {
        let span = span_of(expr);
        let unsupported = |what: &str| {
            Diagnostic::error(format!("{what} are not supported in plinth files"))
                .at(source, span.clone(), "not supported here")
                .with_help(
                    "plinth files take literals, lists, maps, \"${…}\" templates and references \
                     (env.name, dependency.NAME.outputs.OUTPUT); compute values in Terraform code",
                )
        };
        let value = match expr {
            Expression::Null(_) => Expr::Literal(Value::Null),
            Expression::Bool(b) => Expr::Literal(Value::Bool(*b.value())),
            Expression::Number(n) => Expr::Literal(number_value(n.value())),
            Expression::String(s) => Expr::Literal(Value::String(s.value().clone())),
            Expression::Array(items) => Expr::Array(
                items
                    .iter()
                    .map(|e| Expr::lower(e, source))
                    .collect::<Result<_, _>>()?,
            ),
            Expression::Object(obj) => {
                let mut entries = Vec::with_capacity(obj.len());
                for (key, value) in obj.iter() {
                    let key = object_key(key, source)?;
                    if entries.iter().any(|(k, _): &(String, _)| *k == key) {
                        return Err(Diagnostic::error(format!("duplicate key `{key}`")).at(
                            source,
                            span_of(value.expr()),
                            "defined again here",
                        ));
                    }
                    entries.push((key, Expr::lower(value.expr(), source)?));
                }
                Expr::Object(entries)
            }
            Expression::StringTemplate(tpl) => {
                let mut parts = Vec::new();
                for element in tpl.iter() {
                    match element {
                        Element::Literal(text) => parts.push(Part::Text(text.value().clone())),
                        Element::Interpolation(interp) => {
                            parts.push(Part::Interp(Expr::lower(&interp.expr, source)?))
                        }
                        Element::Directive(_) => {
                            return Err(unsupported("template directives (%{…})"));
                        }
                    }
                }
                Expr::Template(parts)
            }
            Expression::HeredocTemplate(_) => return Err(unsupported("heredocs")),
            Expression::Parenthesis(inner) => return Expr::lower(inner.inner(), source),
            Expression::Variable(var) => Expr::Ref(Reference {
                root: Spanned::new(var.value().to_string(), span.clone()),
                steps: Vec::new(),
            }),
            Expression::Traversal(traversal) => {
                let Expression::Variable(root) = &traversal.expr else {
                    return Err(unsupported("traversals of computed values"));
                };
                let mut steps = Vec::with_capacity(traversal.operators.len());
                for op in &traversal.operators {
                    let mut op_span = op.span().unwrap_or(span.clone());
                    let step = match op.value() {
                        TraversalOperator::GetAttr(ident) => {
                            // Point at the name, not at the dot before it.
                            if let Some(name) = ident.span() {
                                op_span = name;
                            }
                            Step::Attr(ident.value().to_string())
                        }
                        TraversalOperator::LegacyIndex(i) => Step::Index(Value::from(*i.value())),
                        TraversalOperator::Index(index) => {
                            match Expr::lower(index, source)?.value {
                                Expr::Literal(v @ (Value::String(_) | Value::Number(_))) => {
                                    Step::Index(v)
                                }
                                _ => return Err(unsupported("computed indexes")),
                            }
                        }
                        TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                            return Err(unsupported("splat expressions"));
                        }
                    };
                    steps.push(Spanned::new(step, op_span));
                }
                Expr::Ref(Reference {
                    root: Spanned::new(root.value().to_string(), span_of_ident(root, &span)),
                    steps,
                })
            }
            Expression::Conditional(_) => return Err(unsupported("conditional expressions")),
            Expression::FuncCall(call) => lower_call(call, source, &span)?,
            Expression::UnaryOp(_) | Expression::BinaryOp(_) => {
                return Err(unsupported("operators"));
            }
            Expression::ForExpr(_) => return Err(unsupported("for expressions")),
        };
        Ok(Spanned::new(value, span))
    }

    /// Every reference inside this expression, in source order.
    pub fn references(&self) -> Vec<&Reference> {
        let mut out = Vec::new();
        self.collect_refs(&mut out);
        out
    }

    fn collect_refs<'a>(&'a self, out: &mut Vec<&'a Reference>) {
        match self {
            Expr::Literal(_) | Expr::Getenv { .. } => {}
            Expr::Ref(r) => out.push(r),
            Expr::Array(items) => items.iter().for_each(|e| e.value.collect_refs(out)),
            Expr::Object(entries) => entries.iter().for_each(|(_, e)| e.value.collect_refs(out)),
            Expr::Template(parts) => parts.iter().for_each(|p| {
                if let Part::Interp(e) = p {
                    e.value.collect_refs(out)
                }
            }),
        }
    }

    /// The literal value, when the expression contains no reference.
    pub fn as_literal(&self) -> Option<Value> {
        self.evaluate(&NoScope).ok()
    }

    /// Evaluates against `scope`, which supplies the root variables.
    pub fn evaluate(&self, scope: &dyn Scope) -> Result<Value, EvalError> {
        match self {
            Expr::Literal(v) => Ok(v.clone()),
            Expr::Array(items) => items
                .iter()
                .map(|e| e.value.evaluate(scope))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            Expr::Object(entries) => {
                let mut map = Map::new();
                for (k, e) in entries {
                    map.insert(k.clone(), e.value.evaluate(scope)?);
                }
                Ok(Value::Object(map))
            }
            Expr::Template(parts) => {
                let mut out = String::new();
                for part in parts {
                    match part {
                        Part::Text(t) => out.push_str(t),
                        Part::Interp(e) => match e.value.evaluate(scope)? {
                            Value::String(s) => out.push_str(&s),
                            v @ (Value::Number(_) | Value::Bool(_)) => out.push_str(&v.to_string()),
                            other => {
                                return Err(EvalError {
                                    span: e.span.clone(),
                                    message: format!(
                                        "cannot interpolate a {} into a string",
                                        kind(&other)
                                    ),
                                });
                            }
                        },
                    }
                }
                Ok(Value::String(out))
            }
            Expr::Ref(r) => resolve(r, scope),
            Expr::Getenv { name, default } => scope
                .getenv(name)
                .or_else(|| default.clone())
                .map(Value::String)
                .ok_or_else(|| EvalError {
                    span: 0..0,
                    message: format!(
                        "getenv(\"{name}\"): environment variable {name} is not set and has no default"
                    ),
                }),
        }
    }
}

impl Spanned<Expr> {
    /// Every `getenv` call inside, with its span: `(variable, has a default, span)`.
    pub fn getenv_calls(&self) -> Vec<(&str, bool, Range<usize>)> {
        let mut out = Vec::new();
        collect_getenv(self, &mut out);
        out
    }

    /// Evaluates like [`Expr::evaluate`], but an error without a place points at this
    /// expression.
    pub fn evaluate_here(&self, scope: &dyn Scope) -> Result<Value, EvalError> {
        self.value.evaluate(scope).map_err(|mut e| {
            if e.span.is_empty() {
                e.span = self.span.clone();
            }
            e
        })
    }
}

fn collect_getenv<'a>(e: &'a Spanned<Expr>, out: &mut Vec<(&'a str, bool, Range<usize>)>) {
    match &e.value {
        Expr::Getenv { name, default } => out.push((name, default.is_some(), e.span.clone())),
        Expr::Array(items) => items.iter().for_each(|i| collect_getenv(i, out)),
        Expr::Object(entries) => entries.iter().for_each(|(_, v)| collect_getenv(v, out)),
        Expr::Template(parts) => parts.iter().for_each(|p| {
            if let Part::Interp(i) = p {
                collect_getenv(i, out)
            }
        }),
        Expr::Literal(_) | Expr::Ref(_) => {}
    }
}

/// The one function plinth files may call: `getenv("NAME"[, "default"])`.
fn lower_call(
    call: &hcl_edit::expr::FuncCall,
    source: &Arc<SourceFile>,
    span: &Range<usize>,
) -> Result<Expr, Diagnostic> {
    let name = call.name.name.value().as_str();
    if call.name.is_namespaced() || name != "getenv" {
        return Err(Diagnostic::error(format!(
            "function `{name}` is not supported in plinth files"
        ))
        .at(source, span.clone(), "not supported here")
        .with_help(
            "the only function is getenv(\"NAME\", \"default\"); compute other values in Terraform code",
        ));
    }
    let literal = |e: &Expression| match e {
        Expression::String(s) => Some(s.value().clone()),
        _ => None,
    };
    let args: Vec<&Expression> = call.args.iter().collect();
    let bad = || {
        Diagnostic::error(
            "getenv takes a variable name and an optional default, both literal strings",
        )
        .at(
            source,
            span.clone(),
            "expected getenv(\"NAME\") or getenv(\"NAME\", \"default\")",
        )
    };
    match args.as_slice() {
        [n] => Ok(Expr::Getenv {
            name: literal(n).ok_or_else(bad)?,
            default: None,
        }),
        [n, d] => Ok(Expr::Getenv {
            name: literal(n).ok_or_else(bad)?,
            default: Some(literal(d).ok_or_else(bad)?),
        }),
        _ => Err(bad()),
    }
}

impl std::fmt::Display for Expr {
    /// Canonical HCL-like text without spans, used to compare two revisions of a file.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expr::Literal(v) => write!(f, "{v}"),
            Expr::Ref(r) => f.write_str(&r.display()),
            Expr::Array(items) => {
                f.write_str("[")?;
                for (i, e) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}", e.value)?;
                }
                f.write_str("]")
            }
            Expr::Object(entries) => {
                f.write_str("{")?;
                for (i, (k, e)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k:?} = {}", e.value)?;
                }
                f.write_str("}")
            }
            Expr::Getenv { name, default } => match default {
                Some(d) => write!(f, "getenv({name:?}, {d:?})"),
                None => write!(f, "getenv({name:?})"),
            },
            Expr::Template(parts) => {
                f.write_str("\"")?;
                for part in parts {
                    match part {
                        Part::Text(t) => f.write_str(&t.escape_default().to_string())?,
                        Part::Interp(e) => write!(f, "${{{}}}", e.value)?,
                    }
                }
                f.write_str("\"")
            }
        }
    }
}

/// Supplies the values of root variables during evaluation.
pub trait Scope {
    /// The value of root variable `name`, or `None` if it is not defined here.
    fn root(&self, name: &str) -> Option<Value>;

    /// The value `getenv(name)` sees: plinth's own environment unless a scope says otherwise.
    fn getenv(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

struct NoScope;

impl Scope for NoScope {
    fn root(&self, _: &str) -> Option<Value> {
        None
    }
}

/// Why an expression could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError {
    /// The span of the failing part.
    pub span: Range<usize>,
    /// What went wrong.
    pub message: String,
}

fn resolve(r: &Reference, scope: &dyn Scope) -> Result<Value, EvalError> {
    let mut current = scope.root(&r.root.value).ok_or_else(|| EvalError {
        span: r.root.span.clone(),
        message: format!("`{}` is not defined here", r.root.value),
    })?;
    let mut path = r.root.value.clone();
    for step in &r.steps {
        let next = match (&step.value, &current) {
            (Step::Attr(a) | Step::Index(Value::String(a)), Value::Object(map)) => {
                map.get(a).cloned().ok_or_else(|| {
                    let known: Vec<&str> = map.keys().map(String::as_str).collect();
                    let hint = crate::did_you_mean(a, known.iter().copied())
                        .map(|s| format!("; did you mean `{s}`?"))
                        .unwrap_or_else(|| {
                            if known.is_empty() {
                                String::new()
                            } else {
                                format!(" (it has: {})", known.join(", "))
                            }
                        });
                    format!("`{path}` has no attribute `{a}`{hint}")
                })
            }
            (Step::Index(Value::Number(n)), Value::Array(items)) => n
                .as_u64()
                .and_then(|i| items.get(i as usize).cloned())
                .ok_or_else(|| {
                    format!(
                        "index {n} is out of range for `{path}` ({} elements)",
                        items.len()
                    )
                }),
            (_, other) => Err(format!(
                "`{path}` is a {}, it cannot be indexed like this",
                kind(other)
            )),
        };
        current = next.map_err(|message| EvalError {
            span: step.span.clone(),
            message,
        })?;
        match &step.value {
            Step::Attr(a) => {
                path.push('.');
                path.push_str(a);
            }
            Step::Index(v) => path.push_str(&format!("[{v}]")),
        }
    }
    Ok(current)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "map",
    }
}

fn number_value(n: &hcl_edit::Number) -> Value {
    if let Some(i) = n.as_i64() {
        Value::from(i)
    } else if let Some(u) = n.as_u64() {
        Value::from(u)
    } else {
        n.as_f64()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Null, Value::Number)
    }
}

fn object_key(key: &ObjectKey, source: &Arc<SourceFile>) -> Result<String, Diagnostic> {
    match key {
        ObjectKey::Ident(ident) => Ok(ident.value().to_string()),
        ObjectKey::Expression(Expression::String(s)) => Ok(s.value().clone()),
        ObjectKey::Expression(e) => Err(Diagnostic::error(
            "map keys must be names or literal strings",
        )
        .at(source, span_of(e), "computed key")),
    }
}

/// The span of an expression (hcl-edit sets one on everything it parsed).
pub(crate) fn span_of(expr: &Expression) -> Range<usize> {
    expr.span().unwrap_or(0..0)
}

fn span_of_ident(
    ident: &hcl_edit::Decorated<hcl_edit::Ident>,
    fallback: &Range<usize>,
) -> Range<usize> {
    ident.span().unwrap_or_else(|| fallback.clone())
}

/// Describes a value's type for messages.
pub(crate) fn type_name(expr: &Expr) -> &'static str {
    match expr {
        Expr::Literal(v) => kind(v),
        Expr::Template(_) => "string template",
        Expr::Array(_) => "list",
        Expr::Object(_) => "map",
        Expr::Ref(_) => "reference",
        Expr::Getenv { .. } => "getenv call",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct TestScope;
    impl Scope for TestScope {
        fn root(&self, name: &str) -> Option<Value> {
            match name {
                "env" => Some(json!({"name": "dev"})),
                "dependency" => Some(
                    json!({"network": {"outputs": {"vpc_id": "vpc-1", "subnets": ["a", "b"]}}}),
                ),
                _ => None,
            }
        }
    }

    fn eval(text: &str) -> Result<Value, EvalError> {
        let source = SourceFile::new("t.hcl", text);
        let expr = hcl_edit::parser::parse_expr(text).unwrap();
        Expr::lower(&expr, &source)
            .unwrap()
            .value
            .evaluate(&TestScope)
    }

    #[test]
    fn evaluates_references_templates_and_indexes() {
        assert_eq!(eval("\"${env.name}.tfvars\"").unwrap(), json!("dev.tfvars"));
        assert_eq!(
            eval("dependency.network.outputs.subnets[1]").unwrap(),
            json!("b")
        );
        assert_eq!(
            eval("{ a = [1, true, null], b = env.name }").unwrap(),
            json!({"a": [1, true, null], "b": "dev"})
        );
    }

    #[test]
    fn missing_attribute_names_the_path_and_suggests() {
        let err = eval("dependency.network.outputs.vpc_idd").unwrap_err();
        assert!(
            err.message
                .contains("`dependency.network.outputs` has no attribute `vpc_idd`"),
            "{}",
            err.message
        );
        assert!(
            err.message.contains("did you mean `vpc_id`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn getenv_reads_the_scope_or_its_default() {
        struct Env;
        impl Scope for Env {
            fn root(&self, _: &str) -> Option<Value> {
                None
            }
            fn getenv(&self, name: &str) -> Option<String> {
                (name == "IMAGE_TAG").then(|| "v42".to_string())
            }
        }
        let lower = |text: &str| {
            let source = SourceFile::new("t.hcl", text);
            Expr::lower(&hcl_edit::parser::parse_expr(text).unwrap(), &source).unwrap()
        };
        assert_eq!(
            lower("getenv(\"IMAGE_TAG\")").value.evaluate(&Env).unwrap(),
            json!("v42")
        );
        assert_eq!(
            lower("\"img:${getenv(\"NOPE\", \"latest\")}\"")
                .value
                .evaluate(&Env)
                .unwrap(),
            json!("img:latest")
        );
        let missing = lower("getenv(\"NOPE\")");
        let err = missing.evaluate_here(&Env).unwrap_err();
        assert!(err.message.contains("NOPE is not set"), "{}", err.message);
        assert_eq!(err.span, missing.span);
        assert_eq!(
            missing.getenv_calls(),
            [("NOPE", false, missing.span.clone())]
        );
    }

    #[test]
    fn function_calls_are_rejected_with_a_span() {
        let text = "upper(env.name)";
        let source = SourceFile::new("t.hcl", text);
        let expr = hcl_edit::parser::parse_expr(text).unwrap();
        let err = Expr::lower(&expr, &source).unwrap_err();
        assert!(
            err.message.contains("function `upper` is not supported"),
            "{}",
            err.message
        );
        assert_eq!(err.location(), Some(("t.hcl", 1, 1)));
    }
}
