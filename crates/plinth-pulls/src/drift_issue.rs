//! The forge issue of a drifted environment: what a check found ([`Checked`]), what to do with
//! the issue given what it last said ([`decide`]), and its text. One issue per environment,
//! under a stable title so that people (and the server) find it again: opened when the
//! environment first drifts, rewritten when the results change, closed with a last word when
//! nothing drifts any more, and reopened if it drifts again.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::summary::{inline, short};

/// What one scheduled check found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Checked {
    pub project: String,
    pub env: String,
    /// The default branch's commit checked.
    pub commit: String,
    /// When the check ended, RFC 3339.
    pub checked_at: String,
    /// The drift run; `None` when it could not start.
    pub run_id: Option<String>,
    /// Why the run could not start (masked).
    pub error: Option<String>,
    /// Per instance, in the run's order.
    pub instances: Vec<CheckedInstance>,
}

/// One instance's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CheckedInstance {
    pub stack: String,
    /// `in-sync`, `drifted`, or what kept it from being checked (`failed`, `skipped`, …).
    pub status: String,
    pub add: u32,
    pub change: u32,
    pub destroy: u32,
    /// Why it failed or was skipped (masked, without the server's log path).
    pub reason: Option<String>,
}

impl Checked {
    fn drifted(&self) -> impl Iterator<Item = &CheckedInstance> {
        self.instances.iter().filter(|i| i.status == "drifted")
    }

    fn unchecked(&self) -> impl Iterator<Item = &CheckedInstance> {
        self.instances
            .iter()
            .filter(|i| i.status != "drifted" && i.status != "in-sync")
    }

    /// How many instances drifted.
    pub(crate) fn drift_count(&self) -> usize {
        self.drifted().count()
    }

    /// Whether every instance was checked and none drifted.
    pub(crate) fn in_sync(&self) -> bool {
        self.error.is_none() && self.instances.iter().all(|i| i.status == "in-sync")
    }

    /// A digest of the results an issue shows (not the commit or time, which change at every
    /// check while the drift stays the same).
    pub(crate) fn digest(&self) -> String {
        let mut h = Sha256::new();
        for i in self.drifted() {
            h.update(format!(
                "d\0{}\0{}\0{}\0{}\n",
                i.stack, i.add, i.change, i.destroy
            ));
        }
        for i in self.unchecked() {
            h.update(format!(
                "u\0{}\0{}\0{}\n",
                i.stack,
                i.status,
                i.reason.as_deref().unwrap_or("")
            ));
        }
        if let Some(e) = &self.error {
            h.update(format!("e\0{e}\n"));
        }
        hex::encode(h.finalize())
    }
}

/// What the issue last was, as the database remembers it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct IssueState {
    pub number: Option<u64>,
    pub open: bool,
    pub digest: Option<String>,
}

/// What to do with the issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IssueAction {
    /// Nothing to say.
    Leave,
    /// Open it (create one, or reopen the one the environment had) with this text.
    Open,
    /// Rewrite the open issue.
    Update,
    /// Back in sync: rewrite and close.
    Close,
}

/// Drift opens or rewrites the issue when the results changed; a check that finds everything
/// in sync closes it. A check that finds no drift but could not check everything leaves a
/// closed issue closed (a failing check is not drift: the dashboard and the job show it) and
/// an open one open, with the failures, since it cannot say the environment is back in sync.
pub(crate) fn decide(checked: &Checked, issue: &IssueState) -> IssueAction {
    let digest = checked.digest();
    let changed = issue.digest.as_deref() != Some(digest.as_str());
    if checked.drift_count() > 0 {
        if !issue.open {
            IssueAction::Open
        } else if changed {
            IssueAction::Update
        } else {
            IssueAction::Leave
        }
    } else if checked.in_sync() {
        if issue.open {
            IssueAction::Close
        } else {
            IssueAction::Leave
        }
    } else if issue.open && changed {
        IssueAction::Update
    } else {
        IssueAction::Leave
    }
}

/// Where the text links to.
#[derive(Debug, Clone, Default)]
pub(crate) struct Links {
    /// The server's public URL.
    pub base: Option<String>,
    /// The branch checked.
    pub branch: String,
}

/// The issue's title: stable, so that it is found again.
pub(crate) fn title(env: &str) -> String {
    format!("plinth: drift in {env}")
}

/// The text of an open issue.
pub(crate) fn body(c: &Checked, links: &Links) -> String {
    let mut out = String::new();
    let n = c.drift_count();
    out.push_str(&format!(
        "The real infrastructure of `{}` (project `{}`) no longer matches its state: {} \
         drifted.\n\n",
        code(&c.env),
        code(&c.project),
        if n == 1 {
            "1 instance".to_string()
        } else {
            format!("{n} instances")
        }
    ));
    if n > 0 {
        out.push_str("| instance | +add ~change -destroy |\n|---|---|\n");
        for i in c.drifted() {
            out.push_str(&format!(
                "| `{}/{}` | +{} ~{} -{} |\n",
                code(&c.env),
                code(&i.stack),
                i.add,
                i.change,
                i.destroy
            ));
        }
        out.push('\n');
    }
    let unchecked: Vec<&CheckedInstance> = c.unchecked().collect();
    if !unchecked.is_empty() || c.error.is_some() {
        out.push_str("Not checked:\n\n");
        if let Some(e) = &c.error {
            out.push_str(&format!("- the check could not run: {}\n", inline(e)));
        }
        for i in unchecked {
            out.push_str(&format!(
                "- `{}/{}` {}: {}\n",
                code(&c.env),
                code(&i.stack),
                inline(&i.status),
                inline(i.reason.as_deref().unwrap_or("no reason given"))
            ));
        }
        out.push('\n');
    }
    out.push_str(&checked_line(c, links));
    out.push_str(&format!(
        "\nTo see the changes, run `plinth drift {env}` from `{branch}`. Bring it back by \
         applying the code (`plinth apply {env}`), or change the code to match what is \
         there. plinth rewrites this issue when a later check finds other results, and closes \
         it when `{env}` is back in sync.\n",
        env = code(&c.env),
        branch = code(&links.branch),
    ));
    out
}

/// The last text of an issue closed because the environment is back in sync.
pub(crate) fn closed_body(c: &Checked, links: &Links) -> String {
    format!(
        "`{}` (project `{}`) is back in sync: no instance of the {} checked drifted.\n\n{}",
        code(&c.env),
        code(&c.project),
        if c.instances.len() == 1 {
            "1".to_string()
        } else {
            c.instances.len().to_string()
        },
        checked_line(c, links)
    )
}

fn checked_line(c: &Checked, links: &Links) -> String {
    let mut line = format!(
        "Checked at `{}` of `{}` on {}",
        short(&code(&c.commit)),
        code(&links.branch),
        inline(&c.checked_at)
    );
    if let Some(run) = &c.run_id {
        match &links.base {
            Some(base) => line.push_str(&format!(
                " by run [`{}`]({}/runs/{})",
                code(run),
                base.trim_end_matches('/'),
                run
            )),
            None => line.push_str(&format!(" by run `{}`", code(run))),
        }
    }
    line.push('.');
    if let Some(base) = &links.base {
        line.push_str(&format!(
            " The environment on the dashboard: {}/?project={}",
            base.trim_end_matches('/'),
            c.project
        ));
    }
    line.push('\n');
    line
}

/// Text inside a code span: nothing in it is active once backticks and line breaks are gone.
fn code(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '`' => '\'',
            '\n' | '\r' | '|' => ' ',
            c => c,
        })
        .take(300)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(stack: &str, status: &str, add: u32, change: u32) -> CheckedInstance {
        CheckedInstance {
            stack: stack.into(),
            status: status.into(),
            add,
            change,
            destroy: 0,
            reason: (status == "failed").then(|| "engine said `no` | <b>@alice</b>".into()),
        }
    }

    fn checked(instances: Vec<CheckedInstance>) -> Checked {
        Checked {
            project: "acme".into(),
            env: "prod".into(),
            commit: "0123456789abcdef0123456789abcdef01234567".into(),
            checked_at: "2026-01-01T00:00:00Z".into(),
            run_id: Some("20260101-000000-abcd".into()),
            error: None,
            instances,
        }
    }

    #[test]
    fn drift_opens_changes_update_and_sync_closes() {
        let closed = IssueState::default();
        let drift = checked(vec![
            instance("app", "drifted", 1, 0),
            instance("net", "in-sync", 0, 0),
        ]);
        assert_eq!(decide(&drift, &closed), IssueAction::Open);
        let open = IssueState {
            number: Some(3),
            open: true,
            digest: Some(drift.digest()),
        };
        assert_eq!(
            decide(&drift, &open),
            IssueAction::Leave,
            "same results: nothing to say"
        );
        let mut later = drift.clone();
        later.commit = "f".repeat(40);
        later.checked_at = "2026-01-02T00:00:00Z".into();
        assert_eq!(
            decide(&later, &open),
            IssueAction::Leave,
            "time and commit are not results"
        );
        let more = checked(vec![
            instance("app", "drifted", 1, 0),
            instance("net", "drifted", 0, 2),
        ]);
        assert_eq!(decide(&more, &open), IssueAction::Update);
        let synced = checked(vec![
            instance("app", "in-sync", 0, 0),
            instance("net", "in-sync", 0, 0),
        ]);
        assert_eq!(decide(&synced, &open), IssueAction::Close);
        assert_eq!(decide(&synced, &closed), IssueAction::Leave);
        let reopened = IssueState {
            number: Some(3),
            open: false,
            digest: None,
        };
        assert_eq!(decide(&drift, &reopened), IssueAction::Open);
    }

    #[test]
    fn failures_alone_neither_open_nor_close() {
        let failing = checked(vec![
            instance("app", "failed", 0, 0),
            instance("net", "in-sync", 0, 0),
        ]);
        assert_eq!(decide(&failing, &IssueState::default()), IssueAction::Leave);
        let open = IssueState {
            number: Some(3),
            open: true,
            digest: Some("earlier".into()),
        };
        assert_eq!(
            decide(&failing, &open),
            IssueAction::Update,
            "still open, with the failure"
        );
        let mut broken = checked(Vec::new());
        broken.error = Some("configuration errors".into());
        assert!(!broken.in_sync());
        assert_eq!(decide(&broken, &IssueState::default()), IssueAction::Leave);
    }

    #[test]
    fn the_text_has_the_table_the_failures_and_the_links_and_nothing_active() {
        let c = checked(vec![
            instance("app", "drifted", 1, 0),
            instance("db", "drifted", 0, 2),
            instance("net", "failed", 0, 0),
            instance("web", "in-sync", 0, 0),
        ]);
        let links = Links {
            base: Some("https://plinth.example.com/".into()),
            branch: "main".into(),
        };
        let text = body(&c, &links);
        assert!(text.contains("2 instances drifted"), "{text}");
        assert!(
            text.contains("| `prod/app` | +1 ~0 -0 |\n| `prod/db` | +0 ~2 -0 |"),
            "{text}"
        );
        assert!(
            !text.contains("prod/web"),
            "in-sync instances are not listed: {text}"
        );
        assert!(
            text.contains(
                "- `prod/net` failed: engine said `no` \\| &lt;b&gt;&#64;alice&lt;/b&gt;"
            ),
            "{text}"
        );
        assert!(
            text.contains("Checked at `0123456` of `main` on 2026-01-01T00:00:00Z"),
            "{text}"
        );
        assert!(
            text.contains("(https://plinth.example.com/runs/20260101-000000-abcd)"),
            "{text}"
        );
        assert!(
            text.contains("https://plinth.example.com/?project=acme"),
            "{text}"
        );
        assert_eq!(title("prod"), "plinth: drift in prod");
        let closed = closed_body(
            &checked(vec![instance("app", "in-sync", 0, 0)]),
            &Links::default(),
        );
        assert!(
            closed.starts_with(
                "`prod` (project `acme`) is back in sync: no instance of the 1 checked drifted."
            ),
            "{closed}"
        );
        assert!(closed.contains("by run `20260101-000000-abcd`"), "{closed}");
    }
}
