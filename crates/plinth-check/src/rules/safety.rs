//! Resource safety (SAF001–SAF010) on real AWS resources and their `terraform_data`
//! stand-ins. IAM wildcards (SAF011) live in `iam.rs`.

use hcl_edit::expr::Expression;

use super::Hit;
use crate::model::{ModuleModel, ResourceView};
use crate::node::{Node, block_head};

/// Ports whose exposure to the internet is an admin door.
const ADMIN_PORTS: &[i64] = &[22, 3389, 5985, 5986];
const OPEN_CIDRS: &[&str] = &["0.0.0.0/0", "::/0"];

pub fn check(module: &ModuleModel, out: &mut Vec<Hit>) {
    let resources = module.resources();
    for r in &resources {
        let head = block_head(r.block);
        let at = |rule: &'static str, label: &str| Hit::new(rule, r.unit, head.clone(), label);
        match r.kind {
            "aws_s3_bucket" => s3_bucket(r, &resources, out),
            "aws_kms_key" if r.node.bool_attr("enable_key_rotation") != Some(true) => {
                out.push(at("SAF004", "enable_key_rotation is not true"));
            }
            "aws_dynamodb_table" => {
                if !r.node.enabled("point_in_time_recovery") {
                    out.push(at("SAF005", "no point-in-time recovery"));
                }
                let cmk = r.node.attr("kms_key_arn").is_some()
                    || r.node.children("server_side_encryption").iter().any(|c| {
                        c.bool_attr("enabled") == Some(true) && c.attr("kms_key_arn").is_some()
                    });
                if !cmk {
                    out.push(at("SAF006", "no customer-managed KMS key"));
                }
                if r.node.bool_attr("deletion_protection_enabled") != Some(true) {
                    out.push(at("SAF007", "deletion_protection_enabled is not true"));
                }
            }
            "aws_db_instance" | "aws_rds_cluster" => {
                if r.node.bool_attr("deletion_protection") != Some(true) {
                    out.push(at("SAF008", "deletion_protection is not true"));
                }
                public_db(r, out);
            }
            "aws_rds_cluster_instance" => public_db(r, out),
            "aws_security_group" => {
                for rule in r.node.children("ingress") {
                    open_admin_port(r, rule, "cidr_blocks", out);
                    open_admin_port(r, rule, "ipv6_cidr_blocks", out);
                }
            }
            "aws_security_group_rule" if r.node.str_attr("type") == Some("ingress") => {
                open_admin_port(r, r.node, "cidr_blocks", out);
                open_admin_port(r, r.node, "ipv6_cidr_blocks", out);
            }
            "aws_vpc_security_group_ingress_rule" => {
                open_admin_port(r, r.node, "cidr_ipv4", out);
                open_admin_port(r, r.node, "cidr_ipv6", out);
            }
            _ => {}
        }
    }
}

fn public_db(r: &ResourceView<'_>, out: &mut Vec<Hit>) {
    if let Some(found) = r.node.attr("publicly_accessible")
        && found.value.as_bool() == Some(true)
    {
        out.push(Hit::new(
            "SAF009",
            r.unit,
            found.span,
            "reachable from the internet",
        ));
    }
}

/// Reports an ingress rule whose `cidr_key` holds an open CIDR on an admin port.
fn open_admin_port(r: &ResourceView<'_>, rule: Node<'_>, cidr_key: &str, out: &mut Vec<Hit>) {
    let Some(found) = rule.attr(cidr_key) else {
        return;
    };
    let open = match found.value {
        Expression::Array(a) => a
            .iter()
            .any(|e| e.as_str().is_some_and(|s| OPEN_CIDRS.contains(&s))),
        e => e.as_str().is_some_and(|s| OPEN_CIDRS.contains(&s)),
    };
    if !open {
        return;
    }
    let protocol = rule
        .str_attr("protocol")
        .or_else(|| rule.str_attr("ip_protocol"))
        .unwrap_or("tcp");
    let all_ports = protocol == "-1" || protocol == "all";
    let port = |k: &str| {
        rule.attr(k)
            .and_then(|f| f.value.as_number().and_then(|n| n.as_i64()))
    };
    let exposed: Vec<i64> = if all_ports {
        ADMIN_PORTS.to_vec()
    } else {
        match (port("from_port"), port("to_port")) {
            (Some(from), Some(to)) => ADMIN_PORTS
                .iter()
                .copied()
                .filter(|p| (from..=to).contains(p))
                .collect(),
            _ => return,
        }
    };
    if !exposed.is_empty() {
        let ports: Vec<String> = exposed.iter().map(i64::to_string).collect();
        out.push(
            Hit::new(
                "SAF010",
                r.unit,
                found.span,
                format!("open to the internet on port {}", ports.join(", ")),
            )
            .message(format!(
                "security group `{}` opens port {} to the internet",
                r.name,
                ports.join(", ")
            )),
        );
    }
}

/// Whether a companion resource's `bucket` refers to bucket `name` (of the real type or of
/// a stand-in).
fn refers_to(companion: &ResourceView<'_>, bucket: &ResourceView<'_>) -> bool {
    let Some(found) = companion.node.attr("bucket") else {
        return false;
    };
    let text = companion.unit.text(found.span);
    let address = if bucket.standin {
        format!("terraform_data.{}", bucket.name)
    } else {
        format!("aws_s3_bucket.{}", bucket.name)
    };
    text.match_indices(&address).any(|(i, _)| {
        text[i + address.len()..]
            .chars()
            .next()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '-'))
    })
}

const PAB_FLAGS: &[&str] = &[
    "block_public_acls",
    "block_public_policy",
    "ignore_public_acls",
    "restrict_public_buckets",
];

fn s3_bucket(bucket: &ResourceView<'_>, all: &[ResourceView<'_>], out: &mut Vec<Hit>) {
    let head = block_head(bucket.block);
    let companions = |kind: &str| -> Vec<&ResourceView<'_>> {
        all.iter()
            .filter(|c| c.kind == kind && refers_to(c, bucket))
            .collect()
    };
    // SAF001: a companion block, or (stand-ins) an inline `public_access_block` object.
    let blocks: Vec<(Node<'_>, &ResourceView<'_>)> =
        companions("aws_s3_bucket_public_access_block")
            .into_iter()
            .map(|c| (c.node, c))
            .chain(
                bucket
                    .node
                    .children("public_access_block")
                    .into_iter()
                    .map(|n| (n, bucket)),
            )
            .collect();
    if blocks.is_empty() {
        out.push(Hit::new(
            "SAF001",
            bucket.unit,
            head.clone(),
            "no aws_s3_bucket_public_access_block for this bucket",
        ));
    }
    for (node, owner) in blocks {
        let off: Vec<&str> = PAB_FLAGS
            .iter()
            .copied()
            .filter(|f| node.bool_attr(f) != Some(true))
            .collect();
        if !off.is_empty() {
            out.push(
                Hit::new(
                    "SAF001",
                    owner.unit,
                    block_head(owner.block),
                    format!("not true: {}", off.join(", ")),
                )
                .message(format!(
                    "public access block of bucket `{}` leaves {} off",
                    bucket.name,
                    off.join(", ")
                )),
            );
        }
    }
    // SAF002
    // Stand-ins may also spell the setting `server_side_encryption` (an object with
    // `sse_algorithm`), the shape the S3 API returns.
    let encrypted = !companions("aws_s3_bucket_server_side_encryption_configuration").is_empty()
        || bucket
            .node
            .attr("server_side_encryption_configuration")
            .is_some()
        || !bucket
            .node
            .children("server_side_encryption_configuration")
            .is_empty()
        || (bucket.standin && bucket.node.attr("server_side_encryption").is_some());
    if !encrypted {
        out.push(Hit::new(
            "SAF002",
            bucket.unit,
            head.clone(),
            "no server-side encryption configuration",
        ));
    }
    // SAF003
    let versioned = companions("aws_s3_bucket_versioning").iter().any(|c| {
        c.node.str_attr("status") == Some("Enabled")
            || c.node
                .children("versioning_configuration")
                .iter()
                .any(|v| v.str_attr("status") == Some("Enabled"))
    }) || bucket.node.enabled("versioning")
        || bucket
            .node
            .children("versioning")
            .iter()
            .any(|v| v.str_attr("status") == Some("Enabled"));
    if !versioned {
        out.push(Hit::new(
            "SAF003",
            bucket.unit,
            head,
            "versioning is not enabled",
        ));
    }
}
