//! A small evaluator of Terraform expressions over literal values, with unknowns.
//!
//! Written by hand: hcl-rs's evaluator has no unknown values, and what cost estimates need from
//! the code is exactly that distinction, as Terraform makes it: the length of
//! `[var.alarm_topic_arn]` is known although its element is not, `count = length(local.azs)` is
//! known when `local.azs` is a literal list, and `count = var.n` is not. Only the functions that
//! decide counts and literal settings are implemented (`funcs.rs`); anything else is unknown.

use std::collections::BTreeMap;

use hcl_edit::expr::{BinaryOperator, Expression, ObjectKey, TraversalOperator, UnaryOperator};
use hcl_edit::template::{Element, Template};

use super::funcs;

/// A value as far as the code alone tells it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    /// A list, tuple or set (sets are deduplicated by `toset`).
    List(Vec<Val>),
    /// An object or map.
    Obj(BTreeMap<String, Val>),
    /// Not known before the engine runs (a variable, a resource attribute, `count.index`…).
    Unknown,
}

impl Val {
    /// Whether the value, including everything inside it, is known.
    pub(crate) fn is_known(&self) -> bool {
        match self {
            Val::Unknown => false,
            Val::List(items) => items.iter().all(Val::is_known),
            Val::Obj(members) => members.values().all(Val::is_known),
            _ => true,
        }
    }

    /// The value as a string, as Terraform converts primitives in templates and map keys.
    pub(crate) fn as_text(&self) -> Option<String> {
        match self {
            Val::Str(s) => Some(s.clone()),
            Val::Num(n) => Some(number_text(*n)),
            Val::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

/// `3` rather than `3.0` for whole numbers.
pub(crate) fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// Where `local.NAME` and `var.NAME` come from.
pub(crate) trait Scope {
    /// The value of `local.NAME`.
    fn local(&self, name: &str, depth: usize) -> Val;
    /// The value of `var.NAME`.
    fn var(&self, name: &str, depth: usize) -> Val;
}

/// Deep enough for locals built from locals; a cycle (an engine error) stops here as unknown.
const MAX_DEPTH: usize = 32;

/// Evaluates `expr` in `scope`; `depth` counts nested `local`/`var` resolutions.
pub(crate) fn eval(expr: &Expression, scope: &dyn Scope, depth: usize) -> Val {
    if depth > MAX_DEPTH {
        return Val::Unknown;
    }
    Evaluator {
        scope,
        depth,
        iters: Vec::new(),
    }
    .eval(expr)
}

struct Evaluator<'s> {
    scope: &'s dyn Scope,
    depth: usize,
    /// `for` expression variables in scope, innermost last.
    iters: Vec<(String, Val)>,
}

impl Evaluator<'_> {
    fn eval(&mut self, expr: &Expression) -> Val {
        match expr {
            Expression::Null(_) => Val::Null,
            Expression::Bool(b) => Val::Bool(*b.value()),
            Expression::Number(n) => n.value().as_f64().map_or(Val::Unknown, Val::Num),
            Expression::String(s) => Val::Str(s.value().clone()),
            Expression::Array(items) => Val::List(items.iter().map(|e| self.eval(e)).collect()),
            Expression::Object(object) => {
                let mut members = BTreeMap::new();
                for (key, value) in object.iter() {
                    let key = match key {
                        ObjectKey::Ident(id) => id.as_str().to_owned(),
                        ObjectKey::Expression(e) => match self.eval(e).as_text() {
                            Some(k) => k,
                            // An unknown key makes even the size of the object unknown.
                            None => return Val::Unknown,
                        },
                    };
                    members.insert(key, self.eval(value.expr()));
                }
                Val::Obj(members)
            }
            Expression::StringTemplate(t) => self.template(t),
            Expression::HeredocTemplate(h) => self.template(&h.template),
            Expression::Parenthesis(p) => self.eval(p.inner()),
            Expression::Variable(v) => self
                .iters
                .iter()
                .rev()
                .find(|(name, _)| name == v.as_str())
                .map_or(Val::Unknown, |(_, val)| val.clone()),
            Expression::Conditional(c) => match self.eval(&c.cond_expr) {
                Val::Bool(true) => self.eval(&c.true_expr),
                Val::Bool(false) => self.eval(&c.false_expr),
                _ => {
                    let (a, b) = (self.eval(&c.true_expr), self.eval(&c.false_expr));
                    if a == b && a.is_known() {
                        a
                    } else {
                        Val::Unknown
                    }
                }
            },
            Expression::FuncCall(call) => {
                if call.name.is_namespaced() || call.args.expand_final() {
                    return Val::Unknown;
                }
                let name = call.name.name.as_str();
                if name == "try" {
                    // The first argument that evaluates wins; unknown can't be ruled out.
                    return call
                        .args
                        .iter()
                        .next()
                        .map(|e| self.eval(e))
                        .filter(Val::is_known)
                        .unwrap_or(Val::Unknown);
                }
                let args: Vec<Val> = call.args.iter().map(|e| self.eval(e)).collect();
                funcs::call(name, &args)
            }
            Expression::Traversal(t) => {
                let (mut value, rest) = match (&t.expr, t.operators.first().map(|o| o.value())) {
                    (Expression::Variable(root), Some(TraversalOperator::GetAttr(name)))
                        if root.as_str() == "local" =>
                    {
                        (
                            self.scope.local(name.as_str(), self.depth + 1),
                            &t.operators[1..],
                        )
                    }
                    (Expression::Variable(root), Some(TraversalOperator::GetAttr(name)))
                        if root.as_str() == "var" =>
                    {
                        (
                            self.scope.var(name.as_str(), self.depth + 1),
                            &t.operators[1..],
                        )
                    }
                    _ => (self.eval(&t.expr), &t.operators[..]),
                };
                for op in rest {
                    value = match op.value() {
                        TraversalOperator::GetAttr(name) => member(value, name.as_str()),
                        TraversalOperator::Index(e) => {
                            let key = self.eval(e);
                            index(value, &key)
                        }
                        TraversalOperator::LegacyIndex(i) => {
                            index(value, &Val::Num(*i.value() as f64))
                        }
                        TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                            Val::Unknown
                        }
                    };
                }
                value
            }
            Expression::UnaryOp(op) => match (op.operator.value(), self.eval(&op.expr)) {
                (UnaryOperator::Neg, Val::Num(n)) => Val::Num(-n),
                (UnaryOperator::Not, Val::Bool(b)) => Val::Bool(!b),
                _ => Val::Unknown,
            },
            Expression::BinaryOp(op) => {
                let lhs = self.eval(&op.lhs_expr);
                // `&&` and `||` decide on one known side, as Terraform does.
                match (op.operator.value(), &lhs) {
                    (BinaryOperator::And, Val::Bool(false)) => return Val::Bool(false),
                    (BinaryOperator::Or, Val::Bool(true)) => return Val::Bool(true),
                    _ => {}
                }
                let rhs = self.eval(&op.rhs_expr);
                binary(*op.operator.value(), lhs, rhs)
            }
            Expression::ForExpr(f) => self.for_expr(f),
        }
    }

    fn template(&mut self, template: &Template) -> Val {
        let mut out = String::new();
        for element in template.iter() {
            match element {
                Element::Literal(s) => out.push_str(s.value()),
                Element::Interpolation(i) => match self.eval(&i.expr).as_text() {
                    Some(s) => out.push_str(&s),
                    None => return Val::Unknown,
                },
                Element::Directive(_) => return Val::Unknown,
            }
        }
        Val::Str(out)
    }

    fn for_expr(&mut self, f: &hcl_edit::expr::ForExpr) -> Val {
        let items: Vec<(Val, Val)> = match self.eval(&f.intro.collection_expr) {
            Val::List(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (Val::Num(i as f64), v))
                .collect(),
            Val::Obj(members) => members.into_iter().map(|(k, v)| (Val::Str(k), v)).collect(),
            _ => return Val::Unknown,
        };
        let key_var = f.intro.key_var.as_ref().map(|k| k.as_str().to_owned());
        let value_var = f.intro.value_var.as_str().to_owned();
        let mut list = Vec::new();
        let mut object: BTreeMap<String, Val> = BTreeMap::new();
        let mut groups: BTreeMap<String, Vec<Val>> = BTreeMap::new();
        for (key, value) in items {
            let pushed = self.iters.len();
            if let Some(k) = &key_var {
                self.iters.push((k.clone(), key));
            }
            self.iters.push((value_var.clone(), value));
            let item = self.for_item(f);
            self.iters.truncate(pushed);
            match item {
                ForItem::Skip => {}
                // An unknown filter or key makes even the size of the result unknown.
                ForItem::Unknown => return Val::Unknown,
                ForItem::Element(v) => list.push(v),
                ForItem::Member(k, v) if f.grouping => groups.entry(k).or_default().push(v),
                ForItem::Member(k, v) => {
                    object.insert(k, v);
                }
            }
        }
        match &f.key_expr {
            None => Val::List(list),
            Some(_) if f.grouping => {
                Val::Obj(groups.into_iter().map(|(k, v)| (k, Val::List(v))).collect())
            }
            Some(_) => Val::Obj(object),
        }
    }

    fn for_item(&mut self, f: &hcl_edit::expr::ForExpr) -> ForItem {
        if let Some(cond) = &f.cond {
            match self.eval(&cond.expr) {
                Val::Bool(true) => {}
                Val::Bool(false) => return ForItem::Skip,
                _ => return ForItem::Unknown,
            }
        }
        let value = self.eval(&f.value_expr);
        match &f.key_expr {
            None => ForItem::Element(value),
            Some(k) => match self.eval(k).as_text() {
                Some(key) => ForItem::Member(key, value),
                None => ForItem::Unknown,
            },
        }
    }
}

/// One element of a `for` expression.
enum ForItem {
    /// Filtered out by its `if`.
    Skip,
    /// The filter or the key is unknown.
    Unknown,
    /// An element of a list result.
    Element(Val),
    /// A member of an object result.
    Member(String, Val),
}

fn member(value: Val, name: &str) -> Val {
    match value {
        Val::Obj(mut members) => members.remove(name).unwrap_or(Val::Unknown),
        _ => Val::Unknown,
    }
}

fn index(value: Val, key: &Val) -> Val {
    match (value, key) {
        (Val::List(mut items), Val::Num(i)) if *i >= 0.0 && (*i as usize) < items.len() => {
            items.swap_remove(*i as usize)
        }
        (Val::Obj(mut members), key) => key
            .as_text()
            .and_then(|k| members.remove(&k))
            .unwrap_or(Val::Unknown),
        _ => Val::Unknown,
    }
}

fn binary(op: BinaryOperator, lhs: Val, rhs: Val) -> Val {
    use BinaryOperator::*;
    match op {
        Eq | NotEq => {
            if !lhs.is_known() || !rhs.is_known() {
                return Val::Unknown;
            }
            Val::Bool((lhs == rhs) == (op == Eq))
        }
        And | Or => match (lhs, rhs) {
            (Val::Bool(a), Val::Bool(b)) => Val::Bool(if op == And { a && b } else { a || b }),
            _ => Val::Unknown,
        },
        _ => {
            let (Val::Num(a), Val::Num(b)) = (lhs, rhs) else {
                return Val::Unknown;
            };
            match op {
                Less => Val::Bool(a < b),
                LessEq => Val::Bool(a <= b),
                Greater => Val::Bool(a > b),
                GreaterEq => Val::Bool(a >= b),
                Plus => Val::Num(a + b),
                Minus => Val::Num(a - b),
                Mul => Val::Num(a * b),
                Div if b != 0.0 => Val::Num(a / b),
                Mod if b != 0.0 => Val::Num(a % b),
                _ => Val::Unknown,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Locals(Vec<(&'static str, &'static str)>);

    impl Scope for Locals {
        fn local(&self, name: &str, depth: usize) -> Val {
            self.0
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(Val::Unknown, |(_, src)| {
                    eval(&src.parse::<Expression>().unwrap(), self, depth)
                })
        }
        fn var(&self, _: &str, _: usize) -> Val {
            Val::Unknown
        }
    }

    fn run(src: &str, scope: &Locals) -> Val {
        eval(&src.parse::<Expression>().expect("expression"), scope, 0)
    }

    #[test]
    fn literals_locals_and_functions() {
        let s = Locals(vec![
            ("azs", r#"["a", "b", "c"]"#),
            ("tables", r#"{ a = { x = 1 }, b = { x = var.y } }"#),
            ("self", "local.self"),
        ]);
        assert_eq!(run("length(local.azs)", &s), Val::Num(3.0));
        assert_eq!(run("length(local.tables)", &s), Val::Num(2.0));
        assert_eq!(run("local.tables.a.x * 2", &s), Val::Num(2.0));
        assert_eq!(run("local.tables.b.x", &s), Val::Unknown);
        assert_eq!(run("length([var.arn])", &s), Val::Num(1.0));
        assert_eq!(run("min(2, length(local.azs))", &s), Val::Num(2.0));
        assert_eq!(run("min(var.n, 3)", &s), Val::Unknown);
        assert_eq!(run("local.self", &s), Val::Unknown, "a cycle is unknown");
        assert_eq!(run(r#"length(toset(["a", "b", "a"]))"#, &s), Val::Num(2.0));
        assert_eq!(run(r#"length(toset([var.a, var.b]))"#, &s), Val::Unknown);
        assert_eq!(
            run(r#"length({ for k, v in local.tables : k => v })"#, &s),
            Val::Num(2.0)
        );
        assert_eq!(
            run(r#"length([for z in local.azs : z if z != "b"])"#, &s),
            Val::Num(2.0)
        );
        assert_eq!(
            run(r#"length([for z in local.azs : z if z != var.x])"#, &s),
            Val::Unknown
        );
        assert_eq!(run(r#"true ? 2 : var.x"#, &s), Val::Num(2.0));
        assert_eq!(run(r#"var.on ? 1 : 0"#, &s), Val::Unknown);
        assert_eq!(
            run(r#""db.${"t3"}.micro""#, &s),
            Val::Str("db.t3.micro".into())
        );
        assert_eq!(run(r#""x-${var.env}""#, &s), Val::Unknown);
        assert_eq!(
            run(
                "length(concat(local.azs, [1], var.more == null ? [] : [2]))",
                &s
            ),
            Val::Unknown
        );
        assert_eq!(run("length(concat(local.azs, [1]))", &s), Val::Num(4.0));
    }
}
