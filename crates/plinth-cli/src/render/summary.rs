//! The closing summary table of a run, with destroys highlighted.

use anstyle::{AnsiColor, Style};
use comfy_table::{Attribute, Cell, CellAlignment, Color, ContentArrangement, Table, presets};
use plinth_run::{InstanceReport, InstanceStatus, RunReport};

/// `text` in `style` when colour is on.
pub fn paint(text: &str, style: Style, color: bool) -> String {
    if color {
        format!("{}{text}{}", style.render(), style.render_reset())
    } else {
        text.to_string()
    }
}

/// The status word, coloured.
pub fn status_text(r: &InstanceReport, color: bool) -> String {
    let style = match r.status {
        InstanceStatus::Succeeded => Style::new().fg_color(Some(AnsiColor::Green.into())),
        InstanceStatus::Unchanged => Style::new().dimmed(),
        InstanceStatus::Failed => Style::new().bold().fg_color(Some(AnsiColor::Red.into())),
        InstanceStatus::Skipped => Style::new().fg_color(Some(AnsiColor::Yellow.into())),
        InstanceStatus::Blocked => Style::new().bold().fg_color(Some(AnsiColor::Yellow.into())),
    };
    paint(&format!("{:<9}", status_word(r)), style, color)
}

fn status_word(r: &InstanceReport) -> &'static str {
    if r.preview_only {
        "preview"
    } else {
        r.status.as_str()
    }
}

/// `+a ~c -d`, the destroy count in red when non-zero.
pub fn counts(r: &InstanceReport, color: bool) -> String {
    let destroy = format!("-{}", r.destroy);
    let destroy = if r.destroy > 0 {
        paint(
            &destroy,
            Style::new().bold().fg_color(Some(AnsiColor::Red.into())),
            color,
        )
    } else {
        destroy
    };
    format!("+{} ~{} {destroy}", r.add, r.change)
}

/// `1 instance`, `3 instances`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The width tables wrap to: the terminal's (stderr's), else 120 columns, at most 200.
fn table_width() -> u16 {
    let mut size = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ only writes the winsize struct it is given.
    let ok = unsafe { libc::ioctl(libc::STDERR_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
    if ok && size.ws_col >= 40 {
        size.ws_col.min(200)
    } else {
        120
    }
}

/// The per-instance table followed by a one-line total.
pub fn table(report: &RunReport, color: bool) -> String {
    let mut t = Table::new();
    t.load_style(presets::UTF8_BORDERS_ONLY);
    if color {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    // Long notes wrap inside their column instead of running the table off the screen.
    t.set_content_arrangement(ContentArrangement::Dynamic);
    t.set_width(table_width());
    // The cost column appears when some plan changes something priced.
    let with_cost = report.instances.iter().any(|i| i.monthly_delta.is_some());
    let mut header = vec!["INSTANCE", "STATUS", "+ADD", "~CHANGE", "-DESTROY", "TIME"];
    if with_cost {
        header.push("COST/MONTH");
    }
    header.push("NOTE");
    t.set_header(header);
    for r in &report.instances {
        let mut destroy = Cell::new(r.destroy).set_alignment(CellAlignment::Right);
        if r.destroy > 0 {
            destroy = destroy.fg(Color::Red).add_attribute(Attribute::Bold);
        }
        let status = match r.status {
            InstanceStatus::Succeeded => Cell::new(status_word(r)).fg(Color::Green),
            InstanceStatus::Unchanged => Cell::new(status_word(r)).add_attribute(Attribute::Dim),
            InstanceStatus::Failed => Cell::new(status_word(r))
                .fg(Color::Red)
                .add_attribute(Attribute::Bold),
            InstanceStatus::Skipped | InstanceStatus::Blocked => {
                Cell::new(status_word(r)).fg(Color::Yellow)
            }
        };
        let time = if r.status == InstanceStatus::Skipped {
            "-".to_string()
        } else {
            format!("{:.1}s", r.duration_ms as f64 / 1000.0)
        };
        let mut row = vec![
            Cell::new(format!("{}/{}", report.env, r.stack)),
            status,
            Cell::new(r.add).set_alignment(CellAlignment::Right),
            Cell::new(r.change).set_alignment(CellAlignment::Right),
            destroy,
            Cell::new(time).set_alignment(CellAlignment::Right),
        ];
        if with_cost {
            let cost = r.monthly_delta.map(plinth_cost::render::signed);
            row.push(Cell::new(cost.unwrap_or_default()).set_alignment(CellAlignment::Right));
        }
        row.push(Cell::new(r.reason.clone().unwrap_or_default()));
        t.add_row(row);
        // Each policy message on a row of its own under the instance's.
        for f in &r.policy_findings {
            let verdict = Cell::new(f.kind.as_str());
            let verdict = match f.kind {
                plinth_run::Verdict::Deny => verdict.fg(Color::Red).add_attribute(Attribute::Bold),
                plinth_run::Verdict::Warn => verdict.fg(Color::Yellow),
            };
            let mut row = vec![Cell::new(format!("  policy {}", f.policy)), verdict];
            row.extend((0..if with_cost { 5 } else { 4 }).map(|_| Cell::new("")));
            row.push(Cell::new(&f.message));
            t.add_row(row);
        }
    }
    let n = |s: InstanceStatus| report.instances.iter().filter(|i| i.status == s).count();
    let (add, change, destroy) = report.instances.iter().fold((0, 0, 0), |(a, c, d), i| {
        (a + i.add, c + i.change, d + i.destroy)
    });
    let mut parts = vec![plural(report.instances.len(), "instance")];
    for (s, word) in [
        (
            InstanceStatus::Succeeded,
            if report.action == "plan" {
                "with changes"
            } else {
                "succeeded"
            },
        ),
        (InstanceStatus::Unchanged, "unchanged"),
        (InstanceStatus::Failed, "failed"),
        (InstanceStatus::Blocked, "blocked"),
        (InstanceStatus::Skipped, "skipped"),
    ] {
        if n(s) > 0 {
            parts.push(format!("{} {word}", n(s)));
        }
    }
    let totals = format!("+{add} ~{change} -{destroy}");
    let totals = if destroy > 0 {
        paint(
            &totals,
            Style::new().bold().fg_color(Some(AnsiColor::Red.into())),
            color,
        )
    } else {
        totals
    };
    let mut hooks = String::new();
    for f in &report.findings {
        let style = if f.severity == "error" {
            Style::new().bold().fg_color(Some(AnsiColor::Red.into()))
        } else {
            Style::new().fg_color(Some(AnsiColor::Yellow.into()))
        };
        hooks.push_str(&format!(
            "{} {}: {}\n",
            paint(&f.severity, style, color),
            f.rule,
            f.message
        ));
    }
    for h in &report.hooks {
        hooks.push_str(&format!(
            "environment hook {}: {}\n",
            h.command,
            if h.ok() {
                "ok".to_string()
            } else {
                h.failure()
            }
        ));
    }
    format!(
        "{t}\n{hooks}{} {}: {} · {totals} · run {}\n",
        report.action,
        report.env,
        parts.join(", "),
        report.run_id
    )
}
