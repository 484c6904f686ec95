//! IAM policy statements (SAF011 `*` on `*`, SAF012 `service:*` on `*`, SAF013 named
//! actions on `*`, SAF014 any principal), written as `jsonencode({...})`, as a JSON string
//! or heredoc, or as `aws_iam_policy_document` statements, in any AWS resource's policy.

use std::ops::Range;

use hcl_edit::expr::Expression;
use hcl_edit::template::Element;

use super::Hit;
use crate::model::{Defaults, ModuleModel, SourceUnit};
use crate::node::{Node, block_head, labels, span_of};

const POLICY_ATTRS: &[&str] = &[
    "policy",
    "assume_role_policy",
    "inline_policy",
    "policy_json",
    "access_policies",
];

/// Verbs of actions that only read (`s3:GetObject`, `ec2:Describe*`).
const READ_VERBS: &[&str] = &[
    "Get", "List", "Describe", "Head", "BatchGet", "Search", "Lookup", "View", "Query", "Scan",
    "Select", "Check", "Validate", "Simulate", "Estimate", "Preview", "Read", "Export",
];

/// One policy statement reduced to what the rules read. Values that are not literals
/// (references, function calls) are left out, so a rule never fires on a guess.
#[derive(Debug, Default)]
struct Statement {
    allow: bool,
    actions: Vec<String>,
    resources: Vec<String>,
    /// Principals as `(type, identifier)`; `("*", "*")` for `Principal = "*"`.
    principals: Vec<(String, String)>,
    condition: bool,
}

impl Statement {
    fn any_resource(&self) -> bool {
        self.resources.iter().any(|r| r == "*")
    }

    fn admin(&self) -> bool {
        self.allow && self.any_resource() && self.actions.iter().any(|a| a == "*" || a == "*:*")
    }

    fn service_wildcards(&self) -> Vec<&str> {
        self.actions
            .iter()
            .filter(|a| a.len() > 2 && a.ends_with(":*") && !a.starts_with('*'))
            .map(String::as_str)
            .collect()
    }

    fn public_principal(&self) -> bool {
        self.allow
            && !self.condition
            && self
                .principals
                .iter()
                .any(|(kind, id)| id == "*" && (kind == "*" || kind == "AWS"))
    }
}

fn is_read_only(action: &str) -> bool {
    let verb = action.split_once(':').map_or(action, |(_, v)| v);
    READ_VERBS.iter().any(|r| verb.starts_with(r))
}

pub fn check(module: &ModuleModel, d: &Defaults<'_>, out: &mut Vec<Hit>) {
    for r in module.resources() {
        if !r.kind.starts_with("aws_") {
            continue;
        }
        let mut policies: Vec<&Expression> = POLICY_ATTRS
            .iter()
            .filter_map(|k| r.node.attr(k).map(|f| f.value))
            .collect();
        for inline in r.node.children("inline_policy") {
            policies.extend(inline.attr("policy").map(|f| f.value));
        }
        for value in policies {
            let statements = match d.resolve(value) {
                Expression::FuncCall(call) if call.name.name.as_str() == "jsonencode" => {
                    match call.args.iter().next() {
                        Some(Expression::Object(o)) => object_statements(Node::Object(o)),
                        _ => Vec::new(),
                    }
                }
                other => literal_text(other)
                    .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                    .map(|v| json_statements(&v))
                    .unwrap_or_default(),
            };
            report(r.unit, span_of(value), &statements, out);
        }
    }
    for unit in &module.tf {
        for data in unit.blocks("data") {
            if labels(data).first() != Some(&"aws_iam_policy_document") {
                continue;
            }
            let statements: Vec<Statement> = Node::Body(&data.body)
                .children("statement")
                .into_iter()
                .map(document_statement)
                .collect();
            report(unit, block_head(data), &statements, out);
        }
    }
}

fn report(unit: &SourceUnit, span: Range<usize>, statements: &[Statement], out: &mut Vec<Hit>) {
    for s in statements {
        if s.admin() {
            out.push(Hit::new(
                "SAF011",
                unit,
                span.clone(),
                "Action \"*\" on Resource \"*\"",
            ));
        } else if s.allow && s.any_resource() && !s.service_wildcards().is_empty() {
            let services = s.service_wildcards().join(", ");
            out.push(
                Hit::new(
                    "SAF012",
                    unit,
                    span.clone(),
                    format!("{services} on Resource \"*\""),
                )
                .message(format!("IAM policy allows {services} on every resource")),
            );
        } else if s.allow && s.any_resource() && !s.condition && !s.actions.is_empty() {
            let writes: Vec<&str> = s
                .actions
                .iter()
                .filter(|a| !is_read_only(a))
                .map(String::as_str)
                .collect();
            let hit = if writes.is_empty() {
                Hit::new(
                    "SAF013",
                    unit,
                    span.clone(),
                    "read-only actions on Resource \"*\"",
                )
                .message("IAM policy allows read-only actions on every resource")
                .into_note()
            } else {
                let shown = if writes.len() > 3 {
                    format!("{} and {} more", writes[..3].join(", "), writes.len() - 3)
                } else {
                    writes.join(", ")
                };
                Hit::new(
                    "SAF013",
                    unit,
                    span.clone(),
                    format!("{shown} on Resource \"*\""),
                )
                .message(format!("IAM policy allows {shown} on every resource"))
            };
            out.push(hit);
        }
        if s.public_principal() {
            out.push(Hit::new(
                "SAF014",
                unit,
                span.clone(),
                "Principal \"*\" without a Condition",
            ));
        }
    }
}

/// Literal strings of a string or a list of strings.
fn hcl_strings(expr: Option<&Expression>) -> Vec<String> {
    match expr {
        Some(Expression::Array(a)) => a
            .iter()
            .filter_map(|e| e.as_str().map(str::to_owned))
            .collect(),
        Some(e) => e.as_str().map(str::to_owned).into_iter().collect(),
        None => Vec::new(),
    }
}

fn object_statements(policy: Node<'_>) -> Vec<Statement> {
    let nodes: Vec<Node<'_>> = match policy.attr("Statement").map(|f| f.value) {
        Some(Expression::Object(o)) => vec![Node::Object(o)],
        Some(Expression::Array(a)) => a
            .iter()
            .filter_map(|e| e.as_object().map(Node::Object))
            .collect(),
        _ => Vec::new(),
    };
    nodes
        .into_iter()
        .map(|s| {
            let mut principals = Vec::new();
            match s.attr("Principal").map(|f| f.value) {
                Some(Expression::Object(o)) => {
                    for (key, value) in o.iter() {
                        if let Some(kind) = crate::node::object_key(key) {
                            for id in hcl_strings(Some(value.expr())) {
                                principals.push((kind.to_owned(), id));
                            }
                        }
                    }
                }
                Some(e) if e.as_str() == Some("*") => principals.push(("*".into(), "*".into())),
                _ => {}
            }
            Statement {
                allow: s.str_attr("Effect").is_none_or(|e| e == "Allow"),
                actions: hcl_strings(s.attr("Action").map(|f| f.value)),
                resources: hcl_strings(s.attr("Resource").map(|f| f.value)),
                principals,
                condition: s.attr("Condition").is_some(),
            }
        })
        .collect()
}

fn json_statements(policy: &serde_json::Value) -> Vec<Statement> {
    use serde_json::Value;
    let strings = |v: Option<&Value>| -> Vec<String> {
        match v {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    };
    let statements: Vec<&Value> = match policy.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(s) => vec![s],
        None => Vec::new(),
    };
    statements
        .into_iter()
        .map(|s| {
            let principals = match s.get("Principal") {
                Some(Value::String(p)) if p == "*" => vec![("*".to_owned(), "*".to_owned())],
                Some(Value::Object(o)) => o
                    .iter()
                    .flat_map(|(k, v)| strings(Some(v)).into_iter().map(move |id| (k.clone(), id)))
                    .collect(),
                _ => Vec::new(),
            };
            Statement {
                allow: s
                    .get("Effect")
                    .and_then(Value::as_str)
                    .is_none_or(|e| e == "Allow"),
                actions: strings(s.get("Action")),
                resources: strings(s.get("Resource")),
                principals,
                condition: s.get("Condition").is_some(),
            }
        })
        .collect()
}

fn document_statement(s: Node<'_>) -> Statement {
    let principals = s
        .children("principals")
        .into_iter()
        .flat_map(|p| {
            let kind = p.str_attr("type").unwrap_or("").to_owned();
            hcl_strings(p.attr("identifiers").map(|f| f.value))
                .into_iter()
                .map(move |id| (kind.clone(), id))
        })
        .collect();
    Statement {
        allow: s.str_attr("effect").is_none_or(|e| e == "Allow"),
        actions: hcl_strings(s.attr("actions").map(|f| f.value)),
        resources: hcl_strings(s.attr("resources").map(|f| f.value)),
        principals,
        condition: !s.children("condition").is_empty(),
    }
}

/// The text of a string or heredoc; interpolations (`"${aws_s3_bucket.x.arn}/*"`, which
/// sit inside JSON strings) become a marker that is never `*`, so the JSON still parses.
/// Templates with directives (`%{ if }`) are not read.
fn literal_text(expr: &Expression) -> Option<String> {
    let template = match expr {
        Expression::String(s) => return Some(s.as_str().to_owned()),
        Expression::HeredocTemplate(h) => &h.template,
        Expression::StringTemplate(t) => {
            return elements_text(t.iter());
        }
        _ => return None,
    };
    elements_text(template.iter())
}

fn elements_text<'a>(elements: impl Iterator<Item = &'a Element>) -> Option<String> {
    let mut text = String::new();
    for element in elements {
        match element {
            Element::Literal(l) => text.push_str(l.value()),
            Element::Interpolation(_) => text.push_str("interpolated"),
            Element::Directive(_) => return None,
        }
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_verbs() {
        assert!(is_read_only("s3:GetObject"));
        assert!(is_read_only("ec2:Describe*"));
        assert!(!is_read_only("s3:PutObject"));
        assert!(!is_read_only("iam:PassRole"));
    }
}
