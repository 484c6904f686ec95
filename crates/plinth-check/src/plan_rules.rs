//! Plan-time rules over `terraform show -json` output (PLN001): deleting or replacing a
//! stateful resource.
//!
//! `terraform_data` stand-ins whose `input` carries `resource_type = "aws_…"` count as that
//! type (see `registry::standin_note`).

use plinth_diag::Severity;
use serde_json::Value;

/// Resource types whose deletion loses data or breaks what depends on their identity.
pub const STATEFUL_TYPES: &[&str] = &[
    "aws_db_instance",
    "aws_rds_cluster",
    "aws_rds_cluster_instance",
    "aws_rds_global_cluster",
    "aws_docdb_cluster",
    "aws_neptune_cluster",
    "aws_redshift_cluster",
    "aws_s3_bucket",
    "aws_dynamodb_table",
    "aws_dynamodb_global_table",
    "aws_kms_key",
    "aws_efs_file_system",
    "aws_ebs_volume",
    "aws_elasticache_cluster",
    "aws_elasticache_replication_group",
    "aws_opensearch_domain",
    "aws_elasticsearch_domain",
    "aws_kinesis_stream",
    "aws_sqs_queue",
    "aws_secretsmanager_secret",
    "aws_backup_vault",
    "aws_fsx_lustre_file_system",
    "aws_memorydb_cluster",
    "aws_msk_cluster",
    "aws_timestreamwrite_table",
    "aws_qldb_ledger",
    "google_sql_database_instance",
    "google_storage_bucket",
    "azurerm_storage_account",
    "azurerm_postgresql_flexible_server",
    "azurerm_mssql_database",
];

/// Where a plan was made.
#[derive(Debug, Clone)]
pub struct PlanContext {
    /// Environment name.
    pub env: String,
    /// Whether the environment is protected.
    pub protected: bool,
    /// Stack id.
    pub stack: String,
}

/// What the plan would do to one stateful resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destruction {
    /// The resource is deleted.
    Delete,
    /// The resource is deleted and created again (either order).
    Replace,
}

/// One plan-time finding.
#[derive(Debug, Clone)]
pub struct PlanFinding {
    /// Rule id (`PLN001`).
    pub rule: &'static str,
    /// Error in protected environments, warning elsewhere.
    pub severity: Severity,
    /// Whether apply must be blocked (exit 3) until approved with `--approve-destructive`.
    pub blocks_apply: bool,
    /// Resource address, e.g. `module.db.aws_db_instance.main`.
    pub address: String,
    /// Effective resource type (a stand-in's `resource_type`).
    pub resource_type: String,
    /// Delete or replace.
    pub destruction: Destruction,
    /// One-line message, naming the instance.
    pub message: String,
}

/// Evaluates the plan rules on one instance's plan JSON.
pub fn evaluate(plan_json: &Value, ctx: &PlanContext) -> Vec<PlanFinding> {
    let Some(changes) = plan_json.get("resource_changes").and_then(Value::as_array) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for rc in changes {
        if rc.get("mode").and_then(Value::as_str) == Some("data") {
            continue;
        }
        let actions: Vec<&str> = rc
            .pointer("/change/actions")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let destruction = match actions.as_slice() {
            ["delete"] => Destruction::Delete,
            ["delete", "create"] | ["create", "delete"] => Destruction::Replace,
            _ => continue,
        };
        let Some(resource_type) = effective_type(rc) else {
            continue;
        };
        if !STATEFUL_TYPES.contains(&resource_type.as_str()) {
            continue;
        }
        let address = rc
            .get("address")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_owned();
        let verb = match destruction {
            Destruction::Delete => "deletes",
            Destruction::Replace => "replaces",
        };
        let message = format!(
            "plan for {}/{} {verb} stateful {resource_type} `{address}`{}",
            ctx.env,
            ctx.stack,
            if ctx.protected {
                " in a protected environment; apply needs --approve-destructive"
            } else {
                ""
            }
        );
        out.push(PlanFinding {
            rule: "PLN001",
            severity: if ctx.protected {
                Severity::Error
            } else {
                Severity::Warning
            },
            blocks_apply: ctx.protected,
            address,
            resource_type,
            destruction,
            message,
        });
    }
    out
}

/// The resource's type, or the `resource_type` a `terraform_data` stand-in declares in its
/// input (read from `before`, since that is what is being destroyed, else `after`).
fn effective_type(rc: &Value) -> Option<String> {
    let kind = rc.get("type").and_then(Value::as_str)?;
    if kind != "terraform_data" {
        return Some(kind.to_owned());
    }
    [
        "/change/before/input/resource_type",
        "/change/after/input/resource_type",
    ]
    .iter()
    .find_map(|p| rc.pointer(p).and_then(Value::as_str))
    .map(str::to_owned)
    .or_else(|| Some(kind.to_owned()))
}
