//! Resource safety of AWS resources (SAF001–SAF010, SAF015–SAF019) on real resources and
//! their `terraform_data` stand-ins. IAM policies (SAF011–SAF014) live in `iam.rs`, Azure
//! and Google resources in `azure.rs` and `google.rs`.

use hcl_edit::expr::Expression;

use super::Hit;
use crate::model::{Defaults, ModuleModel, ResourceView};
use crate::node::{Node, block_head};

/// Ports whose exposure to the internet is an admin door.
const ADMIN_PORTS: &[i64] = &[22, 3389, 5985, 5986];
const OPEN_CIDRS: &[&str] = &["0.0.0.0/0", "::/0"];

pub fn check(module: &ModuleModel, d: &Defaults<'_>, out: &mut Vec<Hit>) {
    let resources = module.resources();
    for r in &resources {
        let head = block_head(r.block);
        let at = |rule: &'static str, label: &str| Hit::new(rule, r.unit, head.clone(), label);
        match r.kind {
            "aws_s3_bucket" => s3_bucket(r, &resources, d, out),
            "aws_kms_key" if d.bool(r.node, "enable_key_rotation") != Some(true) => {
                out.push(at("SAF004", "enable_key_rotation is not true"));
            }
            "aws_dynamodb_table" => {
                if !r.node.enabled("point_in_time_recovery")
                    && !r
                        .node
                        .children("point_in_time_recovery")
                        .iter()
                        .any(|c| d.bool(*c, "enabled") == Some(true))
                {
                    out.push(at("SAF005", "no point-in-time recovery"));
                }
                let cmk = r.node.attr("kms_key_arn").is_some()
                    || r.node.children("server_side_encryption").iter().any(|c| {
                        d.bool(*c, "enabled") == Some(true) && c.attr("kms_key_arn").is_some()
                    });
                if !cmk {
                    out.push(at("SAF006", "no customer-managed KMS key"));
                }
                if d.bool(r.node, "deletion_protection_enabled") != Some(true) {
                    out.push(at("SAF007", "deletion_protection_enabled is not true"));
                }
            }
            "aws_db_instance" | "aws_rds_cluster" => {
                if d.bool(r.node, "deletion_protection") != Some(true) {
                    out.push(at("SAF008", "deletion_protection is not true"));
                }
                public_db(r, d, out);
                rds_encrypted(r, d, out);
                if let Some(found) = r.node.attr("backup_retention_period")
                    && d.int(r.node, "backup_retention_period") == Some(0)
                {
                    out.push(Hit::new(
                        "SAF019",
                        r.unit,
                        found.span,
                        "no automated backups",
                    ));
                }
            }
            "aws_rds_cluster_instance" => public_db(r, d, out),
            "aws_redshift_cluster" => encrypted_flag(r, d, "encrypted", "SAF016", out),
            "aws_ebs_volume" => encrypted_flag(r, d, "encrypted", "SAF017", out),
            "aws_efs_file_system" => encrypted_flag(r, d, "encrypted", "SAF018", out),
            "aws_instance" | "aws_launch_configuration" => {
                let dynamic = |name: &str| {
                    r.block
                        .body
                        .get_blocks("dynamic")
                        .any(|b| b.labels.first().is_some_and(|l| l.as_str() == name))
                };
                if !r.standin
                    && r.node.children("root_block_device").is_empty()
                    && !dynamic("root_block_device")
                {
                    out.push(
                        Hit::new("SAF017", r.unit, head.clone(), "no root_block_device")
                            .message(format!(
                                "root volume of `{}` is not encrypted (no root_block_device with encrypted = true)",
                                r.name
                            )),
                    );
                }
                for key in ["root_block_device", "ebs_block_device"] {
                    for device in r.node.children(key) {
                        // A device made from a snapshot takes the snapshot's encryption.
                        if device.attr("snapshot_id").is_some() {
                            continue;
                        }
                        if d.bool(device, "encrypted") != Some(true) {
                            let span = device
                                .attr("encrypted")
                                .map_or_else(|| head.clone(), |f| f.span);
                            out.push(
                                Hit::new("SAF017", r.unit, span, "not encrypted")
                                    .message(format!("`{key}` of `{}` is not encrypted", r.name)),
                            );
                        }
                    }
                }
            }
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

/// `key` must be true (literal or through a variable default); the finding points at the
/// attribute when it is there, else at the resource.
fn encrypted_flag(
    r: &ResourceView<'_>,
    d: &Defaults<'_>,
    key: &str,
    rule: &'static str,
    out: &mut Vec<Hit>,
) {
    if d.bool(r.node, key) == Some(true) {
        return;
    }
    let span = r
        .node
        .attr(key)
        .map_or_else(|| block_head(r.block), |f| f.span);
    out.push(
        Hit::new(rule, r.unit, span, format!("{key} is not true"))
            .message(format!("`{}` is not encrypted at rest", r.name)),
    );
}

fn rds_encrypted(r: &ResourceView<'_>, d: &Defaults<'_>, out: &mut Vec<Hit>) {
    // Replicas inherit the source's encryption; Aurora Serverless v1 is always encrypted.
    let replica = r
        .node
        .attr("replicate_source_db")
        .is_some_and(|f| !matches!(d.resolve(f.value), Expression::Null(_)));
    let serverless = d.str(r.node, "engine_mode") == Some("serverless");
    // A value the module computes (`var.x` without a default, a conditional) is the
    // caller's to decide, and the caller's literal is checked where it is written.
    let computed = r
        .node
        .attr("storage_encrypted")
        .is_some_and(|f| d.resolve(f.value).as_bool().is_none());
    if replica || serverless || computed {
        return;
    }
    encrypted_flag(r, d, "storage_encrypted", "SAF015", out);
}

fn public_db(r: &ResourceView<'_>, d: &Defaults<'_>, out: &mut Vec<Hit>) {
    if let Some(found) = r.node.attr("publicly_accessible")
        && d.resolve(found.value).as_bool() == Some(true)
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

fn s3_bucket(
    bucket: &ResourceView<'_>,
    all: &[ResourceView<'_>],
    d: &Defaults<'_>,
    out: &mut Vec<Hit>,
) {
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
            .filter(|f| d.bool(node, f) != Some(true))
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
