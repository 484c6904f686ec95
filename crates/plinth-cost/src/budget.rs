//! Budgets as findings: rule CST001, an error in protected environments and a warning
//! elsewhere, from `plinth check --env ENV` and from plans.

use std::ops::Range;
use std::sync::Arc;

use plinth_check::{Finding, registry};
use plinth_diag::{Diagnostic, Severity, SourceFile};

use crate::render::money;

/// The rule id of a budget overrun.
pub const BUDGET_RULE: &str = "CST001";

/// An environment's estimate over its `budget`.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetFinding {
    /// `CST001`.
    pub rule: &'static str,
    /// Error when the environment is protected, warning elsewhere.
    pub severity: Severity,
    /// Environment.
    pub env: String,
    /// USD per month, from plinth.hcl.
    pub budget: f64,
    /// The estimate, USD per month.
    pub monthly: f64,
    /// One line naming the environment, the estimate, the budget and the excess.
    pub message: String,
}

/// The finding when `monthly` exceeds `budget` (both USD per month), else `None`.
pub fn budget_finding(
    env: &str,
    budget: f64,
    monthly: f64,
    protected: bool,
) -> Option<BudgetFinding> {
    // Cents decide: an estimate equal to the budget is within it.
    if (monthly * 100.0).round() <= (budget * 100.0).round() {
        return None;
    }
    Some(BudgetFinding {
        rule: BUDGET_RULE,
        severity: if protected {
            Severity::Error
        } else {
            Severity::Warning
        },
        env: env.to_owned(),
        budget,
        monthly,
        message: format!(
            "{env} is estimated at {}/month, over its budget of {}/month by {}",
            money(monthly),
            money(budget),
            money(monthly - budget)
        ),
    })
}

impl BudgetFinding {
    /// As a `plinth check` finding at the `budget` attribute of plinth.hcl (`at`), with the
    /// severity the check policy gives the rule; `notes` say what the estimate leaves out.
    pub fn into_check_finding(
        self,
        at: Option<(&Arc<SourceFile>, Range<usize>)>,
        severity: Severity,
        notes: Vec<String>,
    ) -> Finding {
        let rule = registry::get(BUDGET_RULE);
        let mut d = Diagnostic::new(severity, self.message)
            .with_code(BUDGET_RULE)
            .with_help(format!(
                "see `plinth cost {}` for the resources; raise `budget`, or cut cost",
                self.env
            ));
        if let Some((source, span)) = at {
            d = d.at(source, span, "the environment's budget");
        }
        for n in notes {
            d = d.with_note(n);
        }
        Finding {
            rule,
            stack: String::new(),
            diagnostic: d,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_by_environment() {
        let prod = budget_finding("prod", 250.0, 312.4, true).unwrap();
        assert_eq!(prod.severity, Severity::Error);
        assert_eq!(prod.rule, "CST001");
        assert_eq!(
            prod.message,
            "prod is estimated at $312.40/month, over its budget of $250.00/month by $62.40"
        );
        let dev = budget_finding("dev", 250.0, 312.4, false).unwrap();
        assert_eq!(dev.severity, Severity::Warning);
        assert_eq!(budget_finding("prod", 250.0, 250.0, true), None);
        assert_eq!(budget_finding("prod", 250.0, 250.004, true), None);
        assert!(budget_finding("prod", 250.0, 250.01, true).is_some());
    }
}
