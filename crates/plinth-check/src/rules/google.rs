//! Google Cloud resources: SAF023 firewall admin ports, SAF024 public buckets, SAF025
//! Cloud SQL public IP.

use super::Hit;
use super::ports::{admin_ports_in, strings};
use crate::model::{Defaults, ModuleModel};
use crate::node::block_head;

const PUBLIC_MEMBERS: &[&str] = &["allUsers", "allAuthenticatedUsers"];

pub fn check(module: &ModuleModel, d: &Defaults<'_>, out: &mut Vec<Hit>) {
    for r in module.resources() {
        match r.kind {
            "google_compute_firewall" => {
                let ingress = d
                    .str(r.node, "direction")
                    .is_none_or(|dir| dir.eq_ignore_ascii_case("INGRESS"));
                let open = r.node.attr("source_ranges").is_some_and(|f| {
                    strings(d.resolve(f.value)).any(|s| s == "0.0.0.0/0" || s == "::/0")
                });
                if !ingress || !open || d.bool(r.node, "disabled") == Some(true) {
                    continue;
                }
                let mut exposed = Vec::new();
                for allow in r.node.children("allow") {
                    let protocol = d.str(allow, "protocol").unwrap_or("all");
                    if !matches!(protocol, "tcp" | "all" | "6") {
                        continue;
                    }
                    let ports: Vec<&str> = allow
                        .attr("ports")
                        .map(|f| strings(d.resolve(f.value)).collect())
                        .unwrap_or_default();
                    let ranges = if ports.is_empty() { vec!["*"] } else { ports };
                    for p in admin_ports_in(&ranges, &[22, 3389]) {
                        if !exposed.contains(&p) {
                            exposed.push(p);
                        }
                    }
                }
                if !exposed.is_empty() {
                    let ports: Vec<String> = exposed.iter().map(u32::to_string).collect();
                    out.push(
                        Hit::new(
                            "SAF023",
                            r.unit,
                            block_head(r.block),
                            format!("open to the internet on port {}", ports.join(", ")),
                        )
                        .message(format!(
                            "firewall `{}` opens port {} to the internet",
                            r.name,
                            ports.join(", ")
                        )),
                    );
                }
            }
            "google_storage_bucket_iam_member"
            | "google_storage_bucket_iam_binding"
            | "google_storage_bucket_access_control"
            | "google_storage_default_object_access_control" => {
                for key in ["member", "members", "entity"] {
                    let Some(found) = r.node.attr(key) else {
                        continue;
                    };
                    if let Some(who) =
                        strings(d.resolve(found.value)).find(|m| PUBLIC_MEMBERS.contains(m))
                    {
                        out.push(
                            Hit::new("SAF024", r.unit, found.span, "granted to everyone")
                                .message(format!("`{}` grants bucket access to {who}", r.name)),
                        );
                    }
                }
            }
            "google_sql_database_instance" => {
                for settings in r.node.children("settings") {
                    let configs = settings.children("ip_configuration");
                    // Without an ip_configuration the instance gets a public IPv4 address.
                    if configs.is_empty() {
                        out.push(
                            Hit::new(
                                "SAF025",
                                r.unit,
                                block_head(r.block),
                                "public IPv4 by default",
                            )
                            .message(format!(
                                "Cloud SQL instance `{}` has a public IP (no ip_configuration)",
                                r.name
                            )),
                        );
                    }
                    for ip in configs {
                        if d.bool(ip, "ipv4_enabled") != Some(false) {
                            let span = ip
                                .attr("ipv4_enabled")
                                .map_or_else(|| block_head(r.block), |f| f.span);
                            out.push(
                                Hit::new("SAF025", r.unit, span, "public IPv4 address").message(
                                    format!("Cloud SQL instance `{}` has a public IP", r.name),
                                ),
                            );
                        }
                        for net in ip.children("authorized_networks") {
                            if let Some(found) = net.attr("value")
                                && strings(d.resolve(found.value)).any(|v| v == "0.0.0.0/0")
                            {
                                out.push(
                                    Hit::new("SAF025", r.unit, found.span, "open to the world")
                                        .message(format!(
                                            "Cloud SQL instance `{}` authorizes 0.0.0.0/0",
                                            r.name
                                        )),
                                );
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
}
