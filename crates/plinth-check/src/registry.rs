//! The rule registry: every rule's stable id, default severity, texts and flags.
//!
//! Ids are a contract with users (suppressions and `check` blocks name them): never renumber.

use plinth_diag::Severity;

/// What a rule is about; safety rules get their severity from the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// Formatting and validity of the code.
    Hygiene,
    /// Plaintext secrets and secret handling.
    Secrets,
    /// The platform's architecture conventions.
    Architecture,
    /// Resource safety: errors in protected environments, warnings elsewhere.
    Safety,
    /// Rules over plan JSON.
    Plan,
    /// Findings about suppression comments themselves.
    Suppression,
}

/// One rule's static description.
#[derive(Debug)]
pub struct Rule {
    /// Stable id, e.g. `SCR001`.
    pub id: &'static str,
    /// Short kebab-case name (SARIF `name`).
    pub name: &'static str,
    /// Rule family.
    pub category: Category,
    /// Severity when no environment or `check` block says otherwise.
    pub default_severity: Severity,
    /// One-line message.
    pub message: &'static str,
    /// What the rule checks and why (`plinth check --explain ID`).
    pub explanation: &'static str,
    /// How to fix a finding.
    pub hint: &'static str,
    /// Whether inline suppression is refused for this rule.
    pub unsuppressible: bool,
    /// Whether the rule needs the engine binary (skipped by `--no-engine`).
    pub needs_engine: bool,
    /// The checkov check ids that look for the same problem: a fact for users migrating
    /// their suppressions (`#checkov:skip=CKV_…` silences the matching plinth rule).
    pub checkov: &'static [&'static str],
    /// Whether the rule is a plinth-project convention (a note outside a plinth project).
    pub project_only: bool,
}

mod table;

pub use table::RULES;

const STANDIN: &str = "Stand-ins: the example repositories model AWS resources with the built-in \
`terraform_data` resource whose `input` object carries `resource_type = \"aws_…\"` and the \
attributes the real resource would have. Such a `terraform_data` is checked exactly like the \
resource type it names.";

/// The plinth rules a checkov check id corresponds to.
pub fn by_checkov(id: &str) -> impl Iterator<Item = &'static Rule> + '_ {
    RULES.iter().filter(move |r| r.checkov.contains(&id))
}

/// The page that documents every rule (SARIF `informationUri`), under the repository the
/// workspace names.
pub const DOCS_URL: &str = concat!(env!("CARGO_PKG_REPOSITORY"), "/blob/main/docs/checks.md");

/// The anchor of a rule in docs/checks.md.
pub fn help_uri(rule: &Rule) -> String {
    format!("{DOCS_URL}#{}", rule.id.to_ascii_lowercase())
}

/// Looks a rule up by id (case-sensitive, ids are upper-case).
pub fn find(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// The rule with this id; panics on an unknown id (rule code uses constants).
pub fn get(id: &str) -> &'static Rule {
    find(id).unwrap_or_else(|| panic!("rule {id} is not registered"))
}

/// The stand-in convention, appended to the explanation of safety and plan rules.
pub fn standin_note() -> &'static str {
    STANDIN
}

/// The full `--explain` text for a rule.
pub fn explain(rule: &Rule) -> String {
    let mut out = format!(
        "{} ({}): {}\n\n{}\n\nDefault severity: {}{}.\nFix: {}\n",
        rule.id,
        rule.name,
        rule.message,
        rule.explanation,
        rule.default_severity.as_str(),
        if rule.category == Category::Safety {
            " (error in protected environments)"
        } else {
            ""
        },
        rule.hint
    );
    if rule.project_only {
        out.push_str(
            "Outside a plinth project (no plinth.hcl) this is a convention, reported as a note.\n",
        );
    }
    if !rule.checkov.is_empty() {
        out.push_str(&format!(
            "checkov: {} (a `#checkov:skip=ID` comment in the block suppresses this rule too).\n",
            rule.checkov.join(", ")
        ));
    }
    if matches!(rule.category, Category::Safety | Category::Plan) {
        out.push('\n');
        out.push_str(STANDIN);
        out.push('\n');
    }
    if rule.unsuppressible {
        out.push_str("This rule cannot be suppressed inline.\n");
    } else {
        out.push_str(&format!(
            "Suppress one finding with `# plinth:ignore {} reason=\"…\" expires=YYYY-MM-DD` on the line or above the block.\n",
            rule.id
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for r in RULES {
            assert!(seen.insert(r.id), "duplicate id {}", r.id);
            assert_eq!(r.id.len(), 6, "{}", r.id);
            assert!(!r.explanation.is_empty() && !r.hint.is_empty());
        }
    }

    #[test]
    fn explain_mentions_the_standin_convention_for_safety_rules() {
        assert!(explain(get("SAF005")).contains("terraform_data"));
        assert!(!explain(get("ARC001")).contains("terraform_data"));
    }
}
