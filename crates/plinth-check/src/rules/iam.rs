//! SAF011: IAM statements allowing every action on every resource, written as
//! `jsonencode({...})`, as a JSON string or heredoc, or as `aws_iam_policy_document`.

use std::ops::Range;

use hcl_edit::expr::Expression;
use hcl_edit::template::Element;

use super::Hit;
use crate::model::{ModuleModel, SourceUnit};
use crate::node::{Node, block_head, labels, span_of};

const POLICY_ATTRS: &[&str] = &[
    "policy",
    "assume_role_policy",
    "inline_policy",
    "policy_json",
];

pub fn check(module: &ModuleModel, out: &mut Vec<Hit>) {
    for r in module.resources() {
        if !r.kind.starts_with("aws_iam_") && !r.kind.ends_with("_policy") {
            continue;
        }
        for key in POLICY_ATTRS {
            let Some(found) = r.node.attr(key) else {
                continue;
            };
            let mut admin = false;
            match found.value {
                Expression::FuncCall(call) if call.name.name.as_str() == "jsonencode" => {
                    if let Some(Expression::Object(o)) = call.args.iter().next() {
                        admin = object_is_admin(Node::Object(o));
                    }
                }
                other => {
                    if let Some(text) = literal_text(other) {
                        admin = serde_json::from_str::<serde_json::Value>(&text)
                            .is_ok_and(|v| json_is_admin(&v));
                    }
                }
            }
            if admin {
                report(r.unit, span_of(found.value), out);
            }
        }
    }
    for unit in &module.tf {
        for data in unit.blocks("data") {
            if labels(data).first() != Some(&"aws_iam_policy_document") {
                continue;
            }
            for statement in Node::Body(&data.body).children("statement") {
                let allow = statement.str_attr("effect").is_none_or(|e| e == "Allow");
                if allow
                    && list_has_star(statement.attr("actions").map(|f| f.value), true)
                    && list_has_star(statement.attr("resources").map(|f| f.value), false)
                {
                    report(unit, block_head(data), out);
                }
            }
        }
    }
}

fn report(unit: &SourceUnit, span: Range<usize>, out: &mut Vec<Hit>) {
    out.push(Hit::new(
        "SAF011",
        unit,
        span,
        "Action \"*\" on Resource \"*\"",
    ));
}

fn is_star(s: &str, action: bool) -> bool {
    s == "*" || (action && s == "*:*")
}

fn list_has_star(expr: Option<&Expression>, action: bool) -> bool {
    match expr {
        Some(Expression::Array(a)) => a
            .iter()
            .any(|e| e.as_str().is_some_and(|s| is_star(s, action))),
        Some(e) => e.as_str().is_some_and(|s| is_star(s, action)),
        None => false,
    }
}

fn object_is_admin(policy: Node<'_>) -> bool {
    let statements: Vec<Node<'_>> = match policy.attr("Statement").map(|f| f.value) {
        Some(Expression::Object(o)) => vec![Node::Object(o)],
        Some(Expression::Array(a)) => a
            .iter()
            .filter_map(|e| e.as_object().map(Node::Object))
            .collect(),
        _ => Vec::new(),
    };
    statements.into_iter().any(|s| {
        s.str_attr("Effect").is_none_or(|e| e == "Allow")
            && list_has_star(s.attr("Action").map(|f| f.value), true)
            && list_has_star(s.attr("Resource").map(|f| f.value), false)
    })
}

fn json_is_admin(policy: &serde_json::Value) -> bool {
    let star = |v: Option<&serde_json::Value>, action: bool| match v {
        Some(serde_json::Value::String(s)) => is_star(s, action),
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .any(|x| x.as_str().is_some_and(|s| is_star(s, action))),
        _ => false,
    };
    let statements: Vec<&serde_json::Value> = match policy.get("Statement") {
        Some(serde_json::Value::Array(a)) => a.iter().collect(),
        Some(s) => vec![s],
        None => Vec::new(),
    };
    statements.into_iter().any(|s| {
        s.get("Effect")
            .and_then(|e| e.as_str())
            .is_none_or(|e| e == "Allow")
            && star(s.get("Action"), true)
            && star(s.get("Resource"), false)
    })
}

/// The text of a string or heredoc without interpolations.
fn literal_text(expr: &Expression) -> Option<String> {
    match expr {
        Expression::String(s) => Some(s.as_str().to_owned()),
        Expression::HeredocTemplate(h) => {
            let mut text = String::new();
            for element in h.template.iter() {
                match element {
                    Element::Literal(l) => text.push_str(l.value()),
                    _ => return None,
                }
            }
            Some(text)
        }
        _ => None,
    }
}
