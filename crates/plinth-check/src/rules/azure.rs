//! Azure resources: SAF020 NSG admin ports, SAF021 public storage, SAF022 database TLS.

use hcl_edit::expr::Expression;

use super::Hit;
use super::ports::{admin_ports_in, strings};
use crate::model::{Defaults, ModuleModel, ResourceView};
use crate::node::{Node, block_head};

/// Sources that mean "anyone" in an NSG rule.
const ANYWHERE: &[&str] = &["*", "internet", "any", "0.0.0.0/0", "0.0.0.0", "::/0"];

pub fn check(module: &ModuleModel, d: &Defaults<'_>, out: &mut Vec<Hit>) {
    for r in module.resources() {
        match r.kind {
            "azurerm_network_security_group" => {
                for rule in r.node.children("security_rule") {
                    nsg_rule(&r, rule, d, out);
                }
            }
            "azurerm_network_security_rule" => nsg_rule(&r, r.node, d, out),
            "azurerm_storage_account" => {
                if r.node.attr("allow_nested_items_to_be_public").is_none()
                    && r.node.attr("allow_blob_public_access").is_none()
                {
                    out.push(
                        Hit::new("SAF021", r.unit, block_head(r.block), "public containers allowed by default")
                            .message(format!(
                                "storage account `{}` does not set allow_nested_items_to_be_public = false",
                                r.name
                            )),
                    );
                }
                for key in [
                    "allow_nested_items_to_be_public",
                    "allow_blob_public_access",
                ] {
                    if let Some(found) = r.node.attr(key)
                        && d.resolve(found.value).as_bool() == Some(true)
                    {
                        out.push(
                            Hit::new("SAF021", r.unit, found.span, "blobs may be made public")
                                .message(format!(
                                    "storage account `{}` lets containers be public",
                                    r.name
                                )),
                        );
                    }
                }
            }
            "azurerm_storage_container" => {
                if let Some(found) = r.node.attr("container_access_type")
                    && let Some(level) = d.resolve(found.value).as_str()
                    && (level == "blob" || level == "container")
                {
                    out.push(
                        Hit::new("SAF021", r.unit, found.span, "readable by anyone").message(
                            format!("storage container `{}` is public (`{level}`)", r.name),
                        ),
                    );
                }
            }
            "azurerm_mssql_server" | "azurerm_sql_server" => {
                let tls = d.str(r.node, "minimum_tls_version");
                if r.kind == "azurerm_mssql_server" && tls != Some("1.2") && tls != Some("1.3") {
                    tls_hit(&r, "minimum_tls_version", "TLS below 1.2 is accepted", out);
                }
            }
            "azurerm_mysql_server" | "azurerm_postgresql_server" => {
                if d.bool(r.node, "ssl_enforcement_enabled") == Some(false) {
                    tls_hit(
                        &r,
                        "ssl_enforcement_enabled",
                        "connections without TLS",
                        out,
                    );
                } else if let Some(v) = d.str(r.node, "ssl_minimal_tls_version_enforced")
                    && v != "TLS1_2"
                    && v != "TLS1_3"
                {
                    tls_hit(&r, "ssl_minimal_tls_version_enforced", "TLS below 1.2", out);
                }
            }
            _ => {}
        }
    }
}

fn tls_hit(r: &ResourceView<'_>, key: &str, label: &str, out: &mut Vec<Hit>) {
    let span = r
        .node
        .attr(key)
        .map_or_else(|| block_head(r.block), |f| f.span);
    out.push(
        Hit::new("SAF022", r.unit, span, label)
            .message(format!("database server `{}` accepts {label}", r.name)),
    );
}

fn lower(node: Node<'_>, d: &Defaults<'_>, key: &str) -> Option<String> {
    d.str(node, key).map(str::to_ascii_lowercase)
}

fn nsg_rule(r: &ResourceView<'_>, rule: Node<'_>, d: &Defaults<'_>, out: &mut Vec<Hit>) {
    if lower(rule, d, "direction").as_deref() != Some("inbound")
        || lower(rule, d, "access").as_deref() != Some("allow")
        || lower(rule, d, "protocol").is_some_and(|p| p == "udp" || p == "icmp")
    {
        return;
    }
    let mut sources: Vec<String> = lower(rule, d, "source_address_prefix")
        .into_iter()
        .collect();
    if let Some(found) = rule.attr("source_address_prefixes") {
        sources.extend(strings(d.resolve(found.value)).map(|s| s.to_ascii_lowercase()));
    }
    if !sources.iter().any(|s| ANYWHERE.contains(&s.as_str())) {
        return;
    }
    let mut ranges: Vec<&str> = d.str(rule, "destination_port_range").into_iter().collect();
    let mut span = rule.attr("destination_port_range").map(|f| f.span);
    if let Some(found) = rule.attr("destination_port_ranges") {
        ranges.extend(strings(d.resolve(found.value)));
        span = span.or(Some(found.span));
    }
    let exposed = admin_ports_in(&ranges, &[22, 3389]);
    if exposed.is_empty() {
        return;
    }
    let ports: Vec<String> = exposed.iter().map(u32::to_string).collect();
    let name = rule
        .attr("name")
        .and_then(|f| match f.value {
            Expression::String(s) => Some(s.as_str().to_owned()),
            _ => None,
        })
        .unwrap_or_else(|| r.name.to_owned());
    out.push(
        Hit::new(
            "SAF020",
            r.unit,
            span.unwrap_or_else(|| block_head(r.block)),
            format!("open to the internet on port {}", ports.join(", ")),
        )
        .message(format!(
            "security rule `{name}` opens port {} to the internet",
            ports.join(", ")
        )),
    );
}
