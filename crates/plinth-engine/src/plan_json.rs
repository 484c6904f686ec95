//! Change counts from `terraform show -json PLANFILE`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a plan would do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSummary {
    /// Resources to create (replacements count here too, as Terraform counts them).
    pub add: u32,
    /// Resources to update in place.
    pub change: u32,
    /// Resources to destroy (replacements count here too).
    pub destroy: u32,
    /// Whether anything changes, outputs included.
    pub has_changes: bool,
}

/// Summarises a plan's JSON representation.
pub fn summarize(plan: &Value) -> PlanSummary {
    let mut s = PlanSummary::default();
    for rc in plan
        .get("resource_changes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if rc.get("mode").and_then(Value::as_str) == Some("data") {
            continue;
        }
        let actions: Vec<&str> = rc
            .pointer("/change/actions")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        match actions.as_slice() {
            ["create"] => s.add += 1,
            ["update"] => s.change += 1,
            ["delete"] => s.destroy += 1,
            ["delete", "create"] | ["create", "delete"] => {
                s.add += 1;
                s.destroy += 1;
            }
            _ => {}
        }
    }
    let outputs_change = plan
        .get("output_changes")
        .and_then(Value::as_object)
        .is_some_and(|o| {
            o.values()
                .any(|c| c.pointer("/actions/0").and_then(Value::as_str) != Some("no-op"))
        });
    s.has_changes = s.add + s.change + s.destroy > 0 || outputs_change;
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counts_like_terraform() {
        let plan = json!({
            "resource_changes": [
                {"mode": "managed", "change": {"actions": ["create"]}},
                {"mode": "managed", "change": {"actions": ["delete", "create"]}},
                {"mode": "managed", "change": {"actions": ["update"]}},
                {"mode": "managed", "change": {"actions": ["no-op"]}},
                {"mode": "data", "change": {"actions": ["read"]}},
            ],
            "output_changes": {"a": {"actions": ["no-op"]}}
        });
        assert_eq!(
            summarize(&plan),
            PlanSummary {
                add: 2,
                change: 1,
                destroy: 1,
                has_changes: true
            }
        );
        let outputs_only =
            json!({"resource_changes": [], "output_changes": {"a": {"actions": ["create"]}}});
        assert!(summarize(&outputs_only).has_changes);
        assert!(!summarize(&json!({})).has_changes);
    }
}
