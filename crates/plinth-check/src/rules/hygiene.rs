//! Formatting and validity: FMT003 required_version, FMT004 required_providers,
//! FMT005 documented variables, FMT006 documented outputs.

use hcl_edit::Span;
use hcl_edit::expr::Expression;

use super::Hit;
use crate::model::ModuleModel;
use crate::node::{Node, block_head, labels};

pub fn check(module: &ModuleModel, out: &mut Vec<Hit>) {
    if module.is_stack {
        required_version(module, out);
    }
    for unit in &module.tf {
        for terraform in unit.blocks("terraform") {
            for rp in terraform.body.get_blocks("required_providers") {
                for attr in rp.body.attributes() {
                    let name = attr.key.as_str();
                    let span = attr.span().unwrap_or(0..0);
                    let missing: Vec<&str> = match &attr.value {
                        Expression::Object(o) => ["source", "version"]
                            .into_iter()
                            .filter(|k| Node::Object(o).attr(k).is_none())
                            .collect(),
                        _ => vec!["source"],
                    };
                    if !missing.is_empty() {
                        out.push(
                            Hit::new(
                                "FMT004",
                                unit,
                                span,
                                format!("no {}", missing.join(" and ")),
                            )
                            .message(format!(
                                "provider `{name}` is required without {}",
                                missing
                                    .iter()
                                    .map(|m| if *m == "version" {
                                        "a version constraint"
                                    } else {
                                        "a source"
                                    })
                                    .collect::<Vec<_>>()
                                    .join(" and ")
                            )),
                        );
                    }
                }
            }
        }
        for var in unit.blocks("variable") {
            let node = Node::Body(&var.body);
            let mut missing = Vec::new();
            if node.attr("type").is_none() {
                missing.push("type");
            }
            let undocumented = match node.attr("description") {
                None => true,
                Some(found) => found.value.as_str().is_some_and(|d| d.trim().is_empty()),
            };
            if undocumented {
                missing.push("description");
            }
            if !missing.is_empty() {
                let name = labels(var).first().copied().unwrap_or("?");
                let help = missing
                    .iter()
                    .map(|m| match *m {
                        "type" => "`type = …`",
                        _ => "`description = \"…\"`",
                    })
                    .collect::<Vec<_>>()
                    .join(" and ");
                out.push(
                    Hit::new(
                        "FMT005",
                        unit,
                        block_head(var),
                        format!("no {}", missing.join(" and ")),
                    )
                    .message(format!(
                        "variable `{name}` has no {}",
                        missing.join(" and ")
                    ))
                    .help(format!("add {help} to the variable block")),
                );
            }
        }
        for output in unit.blocks("output") {
            let node = Node::Body(&output.body);
            if node.attr("description").is_none()
                || node
                    .str_attr("description")
                    .is_some_and(|d| d.trim().is_empty())
            {
                let name = labels(output).first().copied().unwrap_or("?");
                out.push(
                    Hit::new("FMT006", unit, block_head(output), "no description")
                        .message(format!("output `{name}` has no description")),
                );
            }
        }
    }
}

fn required_version(module: &ModuleModel, out: &mut Vec<Hit>) {
    let mut first_terraform = None;
    for unit in &module.tf {
        for block in unit.blocks("terraform") {
            if block.body.has_attribute("required_version") {
                return;
            }
            first_terraform.get_or_insert((unit, block_head(block)));
        }
    }
    let hit = match first_terraform {
        Some((unit, span)) => Hit::new("FMT003", unit, span, "no required_version in this block"),
        None => match module.tf.first() {
            Some(unit) => Hit::new("FMT003", unit, 0..0, "no terraform block in this stack"),
            None => return,
        },
    };
    out.push(hit.message(format!(
        "stack `{}` does not set required_version",
        module.display
    )));
}
