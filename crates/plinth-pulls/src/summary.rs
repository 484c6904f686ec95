//! The sticky summary comment: one per pull request, edited in place (DESIGN §5.1). The model
//! is what the flow knows about each environment; `render` turns it into Markdown in which
//! every value from the repository or the forge is inert.

use serde::{Deserialize, Serialize};

/// What the summary comment shows.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Summary {
    /// The head commit the sections describe.
    pub head: String,
    /// One section per environment the pull request touches, in promotion order.
    pub envs: Vec<EnvSection>,
    /// Problems of the whole pull request (configuration errors, a refused backend).
    pub problems: Vec<String>,
    /// Link to the pull request's page on the server.
    pub link: Option<String>,
}

/// One environment (or ephemeral copy) of the pull request.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EnvSection {
    /// Environment name.
    pub env: String,
    /// For an ephemeral environment, the copy's name (`test-pr-7`).
    pub copy: Option<String>,
    /// Where it stands, one phrase (`planned at abc1234`, `applied`, `waiting for locks`).
    pub state: String,
    /// What to type next, when there is something (`plinth apply staging`).
    pub next: Option<String>,
    /// One row per affected instance.
    pub rows: Vec<Row>,
    /// The apply gates, as last evaluated.
    pub gates: Vec<Gate>,
    /// Further lines: cost, test results, findings.
    pub lines: Vec<String>,
}

/// One instance.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    /// Stack id.
    pub stack: String,
    /// Its plan or result.
    pub result: RowResult,
    /// Planned with mock outputs.
    pub preview_only: bool,
    /// Kept from an earlier head's plan (nothing it consumed moved).
    pub kept: bool,
    /// Destroys or replacements of stateful resources.
    pub stateful: Vec<String>,
    /// Policy findings, cost delta and other notes.
    pub notes: Vec<String>,
    /// The pull request's lock on it.
    pub lock: LockCell,
}

/// An instance's plan or result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum RowResult {
    /// A saved plan with changes.
    Changes {
        /// To add.
        add: u32,
        /// To change.
        change: u32,
        /// To destroy.
        destroy: u32,
    },
    /// A saved plan without changes.
    NoChanges,
    /// Applied.
    Applied {
        /// Added.
        add: u32,
        /// Changed.
        change: u32,
        /// Destroyed.
        destroy: u32,
    },
    /// Failed, with why.
    Failed {
        /// Why.
        reason: String,
    },
    /// Blocked or skipped, with why.
    NotRun {
        /// Why.
        reason: String,
    },
    /// Not planned yet (waiting for locks, or not planned automatically).
    Waiting,
}

/// A lock as the summary shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum LockCell {
    /// This pull request holds it.
    Held,
    /// Queued behind another pull request.
    Queued {
        /// 1 = next.
        position: u32,
        /// The holder's number.
        holder: Option<u64>,
    },
    /// No lock (copies have none; nothing held yet).
    None,
}

/// One apply gate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Gate {
    /// Short name (`approvals`, `mergeable`, `plans current`, `promotion`).
    pub name: String,
    /// Whether it lets the apply through.
    pub open: bool,
    /// What it found (`1 of 1 approvals on abc1234`).
    pub detail: String,
}

/// The hidden marker that identifies plinth's summary comment.
pub const MARKER: &str = "<!-- plinth:summary -->";

/// The comment's Markdown.
pub fn render(summary: &Summary) -> String {
    let mut out = String::new();
    out.push_str(MARKER);
    out.push('\n');
    out.push_str(&format!("### plinth · `{}`\n\n", short(&summary.head)));
    for p in &summary.problems {
        out.push_str(&format!("> **problem:** {}\n", inline(p)));
    }
    if !summary.problems.is_empty() {
        out.push('\n');
    }
    if summary.envs.is_empty() && summary.problems.is_empty() {
        out.push_str("No environment is affected by this pull request.\n\n");
    }
    for env in &summary.envs {
        render_env(&mut out, env);
    }
    if let Some(link) = &summary.link {
        out.push_str(&format!(
            "<sub>[pull request on the plinth server]({}) · `plinth help` lists the commands</sub>\n",
            link_target(link)
        ));
    } else {
        out.push_str("<sub>`plinth help` lists the commands</sub>\n");
    }
    out
}

/// The comment without its per-instance tables, for a pull request whose full summary would
/// pass the forge's limit: per environment its state and totals.
pub fn render_compact(summary: &Summary, limit: usize) -> String {
    let mut out = format!(
        "{MARKER}\n### plinth · `{}`\n\nThis pull request affects too many instances for one \
         comment; the server's page lists each of them.\n\n",
        short(&summary.head)
    );
    for env in &summary.envs {
        let (mut add, mut change, mut destroy, mut failed) = (0u32, 0u32, 0u32, 0usize);
        for row in &env.rows {
            match &row.result {
                RowResult::Changes {
                    add: a,
                    change: c,
                    destroy: d,
                }
                | RowResult::Applied {
                    add: a,
                    change: c,
                    destroy: d,
                } => {
                    add += a;
                    change += c;
                    destroy += d;
                }
                RowResult::Failed { .. } | RowResult::NotRun { .. } => failed += 1,
                RowResult::NoChanges | RowResult::Waiting => {}
            }
        }
        let line = format!(
            "- **{}** · {} · {} instance(s): {} · {failed} failed or not run\n",
            inline(&env.env),
            inline(&env.state),
            env.rows.len(),
            counts(add, change, destroy)
        );
        if out.len() + line.len() + 200 > limit {
            out.push_str("- …\n");
            break;
        }
        out.push_str(&line);
    }
    if let Some(link) = &summary.link {
        out.push_str(&format!("\n[all instances]({})\n", link_target(link)));
    }
    out
}

fn render_env(out: &mut String, env: &EnvSection) {
    let name = match &env.copy {
        Some(copy) => format!("{} (copy `{}`)", inline(&env.env), code(copy)),
        None => format!("**{}**", inline(&env.env)),
    };
    out.push_str(&format!("#### {name} · {}", inline(&env.state)));
    if let Some(next) = &env.next {
        out.push_str(&format!(" · next: `{}`", code(next)));
    }
    out.push_str("\n\n");
    if !env.rows.is_empty() {
        out.push_str("| stack | plan | lock |\n|---|---|---|\n");
        for row in &env.rows {
            out.push_str(&format!(
                "| `{}` | {} | {} |\n",
                code(&row.stack),
                plan_cell(row),
                lock_cell(&row.lock)
            ));
        }
        out.push('\n');
    }
    if !env.gates.is_empty() {
        let gates: Vec<String> = env
            .gates
            .iter()
            .map(|g| {
                format!(
                    "{} {}: {}",
                    if g.open { "✅" } else { "❌" },
                    inline(&g.name),
                    inline(&g.detail)
                )
            })
            .collect();
        out.push_str(&format!("Apply gates: {}\n\n", gates.join(" · ")));
    }
    for line in &env.lines {
        out.push_str(&format!("- {}\n", inline(line)));
    }
    if !env.lines.is_empty() {
        out.push('\n');
    }
}

fn plan_cell(row: &Row) -> String {
    let mut cell = match &row.result {
        RowResult::Changes {
            add,
            change,
            destroy,
        } => counts(*add, *change, *destroy),
        RowResult::NoChanges => "no changes".to_string(),
        RowResult::Applied {
            add,
            change,
            destroy,
        } => format!("applied {}", counts(*add, *change, *destroy)),
        RowResult::Failed { reason } => format!("**failed**: {}", inline(reason)),
        RowResult::NotRun { reason } => format!("not run: {}", inline(reason)),
        RowResult::Waiting => "not planned yet".to_string(),
    };
    if row.preview_only {
        cell.push_str(" · *preview only*");
    }
    if row.kept {
        cell.push_str(" · kept");
    }
    for s in &row.stateful {
        cell.push_str(&format!(" · ⚠️ {}", inline(s)));
    }
    for n in &row.notes {
        cell.push_str(&format!(" · {}", inline(n)));
    }
    cell
}

fn counts(add: u32, change: u32, destroy: u32) -> String {
    let destroy = if destroy > 0 {
        format!("**-{destroy}**")
    } else {
        "-0".to_string()
    };
    format!("+{add} ~{change} {destroy}")
}

fn lock_cell(lock: &LockCell) -> String {
    match lock {
        LockCell::Held => "held".to_string(),
        LockCell::Queued { position, holder } => {
            let behind = holder
                .map(|n| format!(", held by #{n}"))
                .unwrap_or_default();
            format!("queued ({}{behind})", ordinal(*position))
        }
        LockCell::None => "—".to_string(),
    }
}

fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// The first 7 characters of a commit.
pub fn short(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

/// Text inside an inline code span: backticks and line breaks removed (a code span shows
/// everything else literally, so nothing in it is active).
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

/// Text for a table cell or a line: HTML, links, images, mentions and table separators
/// neutralised, one line, bounded. Code spans and emphasis stay: they cannot carry anything
/// active, and plinth's own phrases use them.
pub fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().take(1_000) {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '|' => out.push_str("\\|"),
            '@' => out.push_str("&#64;"),
            '\n' | '\r' => out.push(' '),
            '[' | ']' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A link target that cannot break out of `(…)`.
fn link_target(url: &str) -> String {
    url.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '(' | ')' | '<' | '>' | '"'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(stack: &str, result: RowResult, lock: LockCell) -> Row {
        Row {
            stack: stack.into(),
            result,
            preview_only: false,
            kept: false,
            stateful: vec![],
            notes: vec![],
            lock,
        }
    }

    #[test]
    fn renders_plans_locks_and_gates() {
        let s = Summary {
            head: "0123456789abcdef".into(),
            envs: vec![EnvSection {
                env: "staging".into(),
                state: "planned at 0123456".into(),
                next: Some("plinth apply staging".into()),
                rows: vec![
                    row(
                        "network",
                        RowResult::Changes {
                            add: 1,
                            change: 0,
                            destroy: 2,
                        },
                        LockCell::Held,
                    ),
                    row(
                        "app",
                        RowResult::Waiting,
                        LockCell::Queued {
                            position: 2,
                            holder: Some(12),
                        },
                    ),
                ],
                gates: vec![Gate {
                    name: "approvals".into(),
                    open: false,
                    detail: "0 of 1 on 0123456".into(),
                }],
                ..Default::default()
            }],
            link: Some("https://plinth.example/v1/pulls/acme/infra/7".into()),
            ..Default::default()
        };
        let text = render(&s);
        assert!(text.starts_with(MARKER));
        assert!(text.contains("### plinth · `0123456`"));
        assert!(
            text.contains("| `network` | +1 ~0 **-2** | held |"),
            "{text}"
        );
        assert!(text.contains("| `app` | not planned yet | queued (2nd, held by #12) |"));
        assert!(text.contains("❌ approvals: 0 of 1 on 0123456"));
        assert!(text.contains("next: `plinth apply staging`"));
    }

    #[test]
    fn values_from_the_repository_are_inert() {
        let s = Summary {
            head: "abc".into(),
            envs: vec![EnvSection {
                env: "dev".into(),
                state: "failed".into(),
                rows: vec![row(
                    "<script>alert(1)</script>`|",
                    RowResult::Failed {
                        reason: "@here [x](http://evil) <img src=x> | col".into(),
                    },
                    LockCell::None,
                )],
                ..Default::default()
            }],
            ..Default::default()
        };
        let text = render(&s);
        // The stack id is shown literally inside a code span (inert), and nowhere else.
        assert_eq!(text.matches("<script>").count(), 1, "{text}");
        assert!(text.contains("| `<script>alert(1)</script>' ` |"), "{text}");
        assert!(!text.contains("<img"));
        assert!(!text.contains("@here"));
        assert!(!text.contains("[x](http"));
        // Every table row still has exactly its three cells.
        for line in text.lines().filter(|l| l.starts_with("| `")) {
            let unescaped = line.replace("\\|", "");
            assert_eq!(unescaped.matches('|').count(), 4, "{line}");
        }
    }

    #[test]
    fn ordinals() {
        assert_eq!(
            [1, 2, 3, 4, 11, 12, 13, 21, 22, 101].map(ordinal),
            [
                "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st"
            ]
        );
    }
}
