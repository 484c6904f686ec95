//! Evaluating Terragrunt expressions as far as they can be known without running anything.
//!
//! Written by hand: hcl-rs's evaluator has no unknown values, and a conversion must keep
//! `dependency.X.outputs.Y` and `get_env(…)` as the plinth expressions they become while
//! computing everything else (locals, includes, path functions). What cannot be known here
//! (`run_cmd`, AWS look-ups, functions over unknown values) is a [`Problem`] with its place.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use hcl_edit::Span;
use hcl_edit::expr::{BinaryOperator, Expression, ObjectKey, TraversalOperator, UnaryOperator};
use hcl_edit::structure::Body;
use hcl_edit::template::{Directive, Element};
use serde_json::{Number, Value};

use super::files::{Loader, ParsedFile};
use super::value::{Eval, PVal, Piece, Problem, Step};

/// Where an expression is evaluated: the unit it is evaluated for and the include being read.
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'a> {
    /// Parsed files and cached reads.
    pub loader: &'a Loader,
    /// The unit's directory (Terragrunt's "terragrunt dir"; a read config's own directory).
    pub unit_dir: &'a Path,
    /// The unit's includes by label (`""` when unlabeled) with their files' directories.
    pub includes: &'a [(String, PathBuf)],
    /// The directory of the included file being evaluated, when it is one.
    pub current_include: Option<&'a Path>,
}

/// Values an expression may reference besides locals.
#[derive(Clone, Copy, Default)]
pub(crate) struct Names<'a> {
    /// Exposed includes by label: `include.NAME.locals.X`.
    pub includes: &'a [(String, PVal)],
    /// Dependency labels `dependency.NAME.outputs…` may use (`None`: none may be used here).
    pub dependencies: Option<&'a [String]>,
}

/// One file's evaluation scope: its locals (evaluated on first use), includes, dependencies.
pub(crate) struct FileScope<'a> {
    /// Where it is evaluated.
    pub ctx: Ctx<'a>,
    /// The file.
    pub file: &'a ParsedFile,
    names: Names<'a>,
    locals: HashMap<String, &'a Expression>,
    local_values: RefCell<HashMap<String, Eval<PVal>>>,
    visiting: RefCell<Vec<String>>,
    vars: RefCell<Vec<(String, PVal)>>,
}

/// The expressions of a file's `locals` blocks.
pub(crate) fn locals_of(body: &Body) -> HashMap<String, &Expression> {
    body.blocks()
        .filter(|b| b.ident.value().as_str() == "locals")
        .flat_map(|b| b.body.attributes())
        .map(|a| (a.key.value().to_string(), &a.value))
        .collect()
}

/// The span of an expression.
pub(crate) fn span_of(e: &Expression) -> Option<Range<usize>> {
    e.span()
}

impl<'a> FileScope<'a> {
    /// The scope of `file` evaluated in `ctx`.
    pub fn new(ctx: Ctx<'a>, file: &'a ParsedFile, names: Names<'a>) -> FileScope<'a> {
        FileScope {
            ctx,
            file,
            names,
            locals: locals_of(&file.body),
            local_values: RefCell::new(HashMap::new()),
            visiting: RefCell::new(Vec::new()),
            vars: RefCell::new(Vec::new()),
        }
    }

    /// A problem at `span` of this file.
    pub fn problem(&self, span: Option<Range<usize>>, message: impl Into<String>) -> Problem {
        Problem {
            loc: self.file.loc(span),
            message: message.into(),
        }
    }

    /// Every local, evaluated (failures included), sorted by name.
    pub fn all_locals(&self) -> Vec<(String, Eval<PVal>)> {
        let mut names: Vec<&String> = self.locals.keys().collect();
        names.sort();
        names
            .into_iter()
            .map(|n| (n.clone(), self.local(n, None)))
            .collect()
    }

    fn local(&self, name: &str, span: Option<Range<usize>>) -> Eval<PVal> {
        if let Some(v) = self.local_values.borrow().get(name) {
            return v.clone();
        }
        let Some(expr) = self.locals.get(name).copied() else {
            return Err(self.problem(
                span,
                format!("`local.{name}` is not defined in {}", self.file.display),
            ));
        };
        if self.visiting.borrow().iter().any(|n| n == name) {
            return Err(self.problem(span, format!("`local.{name}` refers to itself")));
        }
        self.visiting.borrow_mut().push(name.to_string());
        // A local never sees the variables of a `for` it is used in.
        let saved = std::mem::take(&mut *self.vars.borrow_mut());
        let value = self.eval(expr);
        *self.vars.borrow_mut() = saved;
        self.visiting.borrow_mut().pop();
        self.local_values
            .borrow_mut()
            .insert(name.to_string(), value.clone());
        value
    }

    /// Evaluates `e` as far as it can be known.
    pub fn eval(&self, e: &Expression) -> Eval<PVal> {
        let span = span_of(e);
        match e {
            Expression::Null(_) => Ok(PVal::Known(Value::Null)),
            Expression::Bool(b) => Ok(PVal::Known(Value::Bool(*b.value()))),
            Expression::Number(n) => Ok(PVal::Known(number(n.value()))),
            Expression::String(s) => Ok(PVal::string(s.value().clone())),
            Expression::Array(items) => {
                Ok(PVal::list(items.iter().map(|i| self.eval(i)).collect::<Eval<_>>()?))
            }
            Expression::Object(obj) => {
                let mut entries = Vec::new();
                for (key, value) in obj.iter() {
                    let key = match key {
                        ObjectKey::Ident(i) => i.value().to_string(),
                        ObjectKey::Expression(k) => match self.eval(k)? {
                            PVal::Known(Value::String(s)) => s,
                            PVal::Known(Value::Number(n)) => n.to_string(),
                            _ => return Err(self.problem(span_of(k), "object keys must be known strings")),
                        },
                    };
                    entries.push((key, self.eval(value.expr())?));
                }
                Ok(PVal::object(entries))
            }
            Expression::StringTemplate(t) => self.template(t.iter(), span),
            Expression::HeredocTemplate(h) => {
                let mut h = (**h).clone();
                // Only `<<-` strips indentation; hcl-edit records it as the heredoc's indent.
                if h.indent().is_some() {
                    h.dedent();
                }
                self.template(h.template.iter(), span)
            }
            Expression::Parenthesis(p) => self.eval(p.inner()),
            Expression::Variable(v) => self.traverse_root(v.value().as_str(), &[], span),
            Expression::Traversal(t) => match &t.expr {
                Expression::Variable(v) => self.traverse_root(v.value().as_str(), &t.operators, span),
                other => {
                    let base = self.eval(other)?;
                    let ops: Vec<&TraversalOperator> = t.operators.iter().map(|o| o.value()).collect();
                    self.apply(base, &ops, span)
                }
            },
            Expression::Conditional(c) => match self.eval(&c.cond_expr)? {
                PVal::Known(Value::Bool(true)) => self.eval(&c.true_expr),
                PVal::Known(Value::Bool(false)) => self.eval(&c.false_expr),
                _ => Err(self.problem(
                    span,
                    "a condition on a value known only at run time (plinth files have no conditionals)",
                )),
            },
            Expression::FuncCall(call) => super::functions::call(self, call, span),
            Expression::UnaryOp(u) => {
                let v = self.known(&u.expr, "an operator")?;
                match (u.operator.value(), v) {
                    (UnaryOperator::Not, Value::Bool(b)) => Ok(PVal::Known(Value::Bool(!b))),
                    (UnaryOperator::Neg, Value::Number(n)) => {
                        Ok(PVal::Known(float(-n.as_f64().unwrap_or(0.0))))
                    }
                    _ => Err(self.problem(span, "operator applied to a value of the wrong type")),
                }
            }
            Expression::BinaryOp(b) => {
                let l = self.known(&b.lhs_expr, "an operator")?;
                let r = self.known(&b.rhs_expr, "an operator")?;
                binary(*b.operator.value(), &l, &r)
                    .map(PVal::Known)
                    .ok_or_else(|| self.problem(span, "operator applied to values of the wrong type"))
            }
            Expression::ForExpr(f) => self.for_expr(f, span),
        }
    }

    /// Evaluates `e`, which must be fully known; `what` names the consumer in the message.
    pub fn known(&self, e: &Expression, what: &str) -> Eval<Value> {
        match self.eval(e)? {
            PVal::Known(v) => Ok(v),
            _ => Err(self.problem(
                span_of(e),
                format!(
                    "{what} over a value known only at run time (a dependency output or get_env): \
                     compute it in Terraform code"
                ),
            )),
        }
    }

    /// Evaluates `e` to a known string.
    pub fn known_string(&self, e: &Expression, what: &str) -> Eval<String> {
        match self.known(e, what)? {
            Value::String(s) => Ok(s),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            _ => Err(self.problem(span_of(e), format!("{what} needs a string"))),
        }
    }

    fn template<'e>(
        &self,
        elements: impl Iterator<Item = &'e Element>,
        span: Option<Range<usize>>,
    ) -> Eval<PVal> {
        let mut pieces = Vec::new();
        for element in elements {
            match element {
                Element::Literal(text) => pieces.push(Piece::Text(text.value().clone())),
                Element::Interpolation(i) => match self.eval(&i.expr)? {
                    PVal::Known(Value::String(s)) => pieces.push(Piece::Text(s)),
                    PVal::Known(v @ (Value::Number(_) | Value::Bool(_))) => {
                        pieces.push(Piece::Text(v.to_string()))
                    }
                    PVal::Known(_) => {
                        return Err(self
                            .problem(span_of(&i.expr), "cannot interpolate a list or an object"));
                    }
                    PVal::Template(inner) => pieces.extend(inner),
                    other @ (PVal::Output { .. } | PVal::Getenv { .. }) => {
                        pieces.push(Piece::Value(other))
                    }
                    PVal::List(_) | PVal::Object(_) => {
                        return Err(self
                            .problem(span_of(&i.expr), "cannot interpolate a list or an object"));
                    }
                },
                Element::Directive(d) => {
                    let what = match **d {
                        Directive::If(_) => "%{if}",
                        Directive::For(_) => "%{for}",
                    };
                    return Err(
                        self.problem(span, format!("template directive {what} is not converted"))
                    );
                }
            }
        }
        Ok(PVal::template(pieces))
    }

    fn traverse_root(
        &self,
        root: &str,
        ops: &[hcl_edit::Decorated<TraversalOperator>],
        span: Option<Range<usize>>,
    ) -> Eval<PVal> {
        let ops: Vec<&TraversalOperator> = ops.iter().map(|o| o.value()).collect();
        let attr = |i: usize| match ops.get(i) {
            Some(TraversalOperator::GetAttr(a)) => Some(a.value().to_string()),
            _ => None,
        };
        if let Some((_, v)) = self.vars.borrow().iter().rev().find(|(n, _)| n == root) {
            return self.apply(v.clone(), &ops, span);
        }
        match root {
            "local" => {
                let name =
                    attr(0).ok_or_else(|| self.problem(span.clone(), "expected local.NAME"))?;
                let value = self.local(&name, span.clone())?;
                self.apply(value, &ops[1..], span)
            }
            "include" => {
                let first =
                    attr(0).ok_or_else(|| self.problem(span.clone(), "expected include.NAME"))?;
                if let Some((_, v)) = self.names.includes.iter().find(|(n, _)| *n == first) {
                    return self.apply(v.clone(), &ops[1..], span);
                }
                if let Some((_, v)) = self.names.includes.iter().find(|(n, _)| n.is_empty()) {
                    return self.apply(v.clone(), &ops, span);
                }
                Err(self.problem(
                    span,
                    format!(
                        "`include.{first}` names no exposed include (set `expose = true` on it)"
                    ),
                ))
            }
            "dependency" => {
                let Some(deps) = self.names.dependencies else {
                    return Err(self.problem(span, "dependency outputs cannot be used here"));
                };
                let name = attr(0).ok_or_else(|| {
                    self.problem(span.clone(), "expected dependency.NAME.outputs")
                })?;
                if !deps.contains(&name) {
                    return Err(self.problem(span, format!("no `dependency \"{name}\"` block")));
                }
                if attr(1).as_deref() != Some("outputs") {
                    return Err(self.problem(
                        span,
                        format!("only `dependency.{name}.outputs` can be converted"),
                    ));
                }
                let mut path = Vec::new();
                for op in &ops[2..] {
                    path.push(match op {
                        TraversalOperator::GetAttr(a) => Step::Attr(a.value().to_string()),
                        TraversalOperator::LegacyIndex(i) => Step::Index(Value::from(*i.value())),
                        TraversalOperator::Index(e) => Step::Index(self.known(e, "an index")?),
                        _ => {
                            return Err(self.problem(
                                span,
                                "splat expressions over dependency outputs are not converted",
                            ));
                        }
                    });
                }
                Ok(PVal::Output { dep: name, path })
            }
            "feature" => Err(self.problem(
                span,
                "feature flags are set when Terragrunt runs: not converted",
            )),
            "values" => Err(self.problem(span, "`values` of explicit stacks are not converted")),
            other => Err(self.problem(span, format!("unknown variable `{other}`"))),
        }
    }

    fn apply(
        &self,
        mut value: PVal,
        ops: &[&TraversalOperator],
        span: Option<Range<usize>>,
    ) -> Eval<PVal> {
        for (i, op) in ops.iter().enumerate() {
            value = match (value, op) {
                (PVal::Output { dep, mut path }, _) => {
                    path.push(match op {
                        TraversalOperator::GetAttr(a) => Step::Attr(a.value().to_string()),
                        TraversalOperator::LegacyIndex(n) => Step::Index(Value::from(*n.value())),
                        TraversalOperator::Index(e) => Step::Index(self.known(e, "an index")?),
                        _ => {
                            return Err(self.problem(
                                span,
                                "splat expressions over dependency outputs are not converted",
                            ));
                        }
                    });
                    PVal::Output { dep, path }
                }
                (v, TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_)) => {
                    let items = match v {
                        PVal::Known(Value::Array(items)) => {
                            items.into_iter().map(PVal::Known).collect()
                        }
                        PVal::List(items) => items,
                        PVal::Known(Value::Null) => Vec::new(),
                        other => vec![other],
                    };
                    let rest = &ops[i + 1..];
                    let mapped = items
                        .into_iter()
                        .map(|item| self.apply(item, rest, span.clone()))
                        .collect::<Eval<Vec<_>>>()?;
                    return Ok(PVal::list(mapped));
                }
                (v, TraversalOperator::GetAttr(a)) => {
                    self.get(v, &Value::String(a.value().to_string()), span.clone())?
                }
                (v, TraversalOperator::LegacyIndex(n)) => {
                    self.get(v, &Value::from(*n.value()), span.clone())?
                }
                (v, TraversalOperator::Index(e)) => {
                    let key = self.known(e, "an index")?;
                    self.get(v, &key, span.clone())?
                }
            };
        }
        Ok(value)
    }

    fn get(&self, value: PVal, key: &Value, span: Option<Range<usize>>) -> Eval<PVal> {
        let missing = || self.problem(span.clone(), format!("no attribute or element {key}"));
        match (value, key) {
            (PVal::Known(Value::Object(m)), Value::String(k)) => {
                m.get(k).cloned().map(PVal::Known).ok_or_else(missing)
            }
            (PVal::Known(Value::Array(a)), Value::Number(n)) => n
                .as_u64()
                .and_then(|i| a.get(i as usize).cloned())
                .map(PVal::Known)
                .ok_or_else(missing),
            (PVal::Object(entries), Value::String(k)) => entries
                .into_iter()
                .find(|(ek, _)| ek == k)
                .map(|(_, v)| v)
                .ok_or_else(missing),
            (PVal::List(items), Value::Number(n)) => n
                .as_u64()
                .and_then(|i| items.get(i as usize).cloned())
                .ok_or_else(missing),
            _ => Err(missing()),
        }
    }

    fn for_expr(&self, f: &hcl_edit::expr::ForExpr, span: Option<Range<usize>>) -> Eval<PVal> {
        let collection = self.known(&f.intro.collection_expr, "a for expression")?;
        let pairs: Vec<(Value, Value)> = match collection {
            Value::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (Value::from(i), v))
                .collect(),
            Value::Object(m) => m.into_iter().map(|(k, v)| (Value::String(k), v)).collect(),
            _ => return Err(self.problem(span, "a for expression needs a list or an object")),
        };
        let key_var = f.intro.key_var.as_ref().map(|k| k.value().to_string());
        let value_var = f.intro.value_var.value().to_string();
        let mut list = Vec::new();
        let mut object: Vec<(String, PVal)> = Vec::new();
        for (k, v) in pairs {
            let depth = self.vars.borrow().len();
            {
                let mut vars = self.vars.borrow_mut();
                if let Some(kv) = &key_var {
                    vars.push((kv.clone(), PVal::Known(k)));
                }
                vars.push((value_var.clone(), PVal::Known(v)));
            }
            let result = (|| -> Eval<()> {
                if let Some(cond) = &f.cond
                    && self.known(&cond.expr, "a for condition")? != Value::Bool(true)
                {
                    return Ok(());
                }
                let value = self.eval(&f.value_expr)?;
                match &f.key_expr {
                    Some(key) => object.push((self.known_string(key, "a for key")?, value)),
                    None => list.push(value),
                }
                Ok(())
            })();
            self.vars.borrow_mut().truncate(depth);
            result?;
        }
        if f.grouping {
            return Err(self.problem(span, "grouping for expressions (`...`) are not converted"));
        }
        Ok(if f.key_expr.is_some() {
            PVal::object(object)
        } else {
            PVal::list(list)
        })
    }
}

/// An hcl-edit number as JSON.
pub(crate) fn number(n: &hcl_edit::Number) -> Value {
    if let Some(i) = n.as_i64() {
        Value::from(i)
    } else if let Some(u) = n.as_u64() {
        Value::from(u)
    } else {
        float(n.as_f64().unwrap_or(0.0))
    }
}

/// A float as JSON, whole numbers as integers (as Terraform prints them).
pub(crate) fn float(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        Value::from(f as i64)
    } else {
        Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

fn binary(op: BinaryOperator, l: &Value, r: &Value) -> Option<Value> {
    use BinaryOperator::*;
    let num = |v: &Value| match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    };
    Some(match op {
        Eq => Value::Bool(l == r),
        NotEq => Value::Bool(l != r),
        And => Value::Bool(l.as_bool()? && r.as_bool()?),
        Or => Value::Bool(l.as_bool()? || r.as_bool()?),
        Plus => float(num(l)? + num(r)?),
        Minus => float(num(l)? - num(r)?),
        Mul => float(num(l)? * num(r)?),
        Div => float(num(l)? / num(r)?),
        Mod => float(num(l)? % num(r)?),
        Less => Value::Bool(num(l)? < num(r)?),
        LessEq => Value::Bool(num(l)? <= num(r)?),
        Greater => Value::Bool(num(l)? > num(r)?),
        GreaterEq => Value::Bool(num(l)? >= num(r)?),
    })
}
