//! The live progress view of a run: one line per running instance with its phase and elapsed
//! time on a terminal; plain timestamped lines otherwise (CI logs).

use std::collections::HashMap;
use std::io::Write;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use plinth_run::{Event, InstanceReport, InstanceStatus};
use tokio::sync::mpsc::UnboundedReceiver;

use crate::render::summary::{counts, paint, status_text};

/// Consumes events until the run drops its sender.
pub async fn show(
    mut events: UnboundedReceiver<Event>,
    env: String,
    total: usize,
    tty: bool,
    color: bool,
    quiet: bool,
    details: Option<std::path::PathBuf>,
) {
    let started = Instant::now();
    if tty && !quiet {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10));
        let header = multi.add(ProgressBar::new(total as u64));
        // indicatif styles by its own terminal detection; `--color never` must win.
        let template = if color {
            "{prefix:.bold} [{bar:24}] {pos}/{len} {msg}"
        } else {
            "{prefix} [{bar:24}] {pos}/{len} {msg}"
        };
        header.set_style(
            ProgressStyle::with_template(template)
                .expect("valid template")
                .progress_chars("=> "),
        );
        header.set_prefix(env.clone());
        header.enable_steady_tick(Duration::from_millis(100));
        let spinner =
            ProgressStyle::with_template("  {spinner} {prefix:<40} {msg:<8} {elapsed:>4}")
                .expect("valid template");
        let mut bars: HashMap<String, ProgressBar> = HashMap::new();
        while let Some(event) = events.recv().await {
            match event {
                Event::Phase { stack, phase } => {
                    let bar = bars.entry(stack.clone()).or_insert_with(|| {
                        let bar = multi.insert_before(&header, ProgressBar::new_spinner());
                        bar.set_style(spinner.clone());
                        bar.set_prefix(stack.clone());
                        bar.enable_steady_tick(Duration::from_millis(100));
                        bar
                    });
                    bar.set_message(phase.as_str());
                }
                Event::Finished(report) => {
                    header.inc(1);
                    let line = finished_line(&report, color);
                    if let Some(bar) = bars.remove(&report.stack) {
                        bar.finish_and_clear();
                        multi.remove(&bar);
                    }
                    let _ = multi.println(line);
                    if let Some(text) = details.as_deref().and_then(|root| detail(&report, root)) {
                        let _ = multi.println(text);
                    }
                }
                Event::Warning(text) => {
                    let _ = multi.println(warning_line(&text, color));
                }
            }
            let running = bars.len();
            header.set_message(if running > 0 {
                format!("{running} running")
            } else {
                String::new()
            });
        }
        header.finish_and_clear();
    } else {
        let mut err = std::io::stderr();
        while let Some(event) = events.recv().await {
            let t = started.elapsed().as_secs_f64();
            match event {
                // Shown even with --quiet: the run went on, but something it should have
                // done elsewhere did not happen.
                Event::Warning(text) => {
                    let _ = writeln!(err, "{}", warning_line(&text, color));
                }
                Event::Phase { stack, phase } if !quiet => {
                    let _ = writeln!(err, "[{t:>6.1}s] {env}/{stack}: {}", phase.as_str());
                }
                Event::Finished(report) if !quiet => {
                    let _ = writeln!(
                        err,
                        "[{t:>6.1}s] {env}/{}: {}",
                        report.stack,
                        outcome(&report, color)
                    );
                    if let Some(text) = details.as_deref().and_then(|root| detail(&report, root)) {
                        let _ = writeln!(err, "{text}");
                    }
                }
                _ => {}
            }
        }
    }
}

/// `warning: TEXT`, the label in yellow when colour is on.
pub fn warning_line(text: &str, color: bool) -> String {
    let style = anstyle::Style::new()
        .bold()
        .fg_color(Some(anstyle::AnsiColor::Yellow.into()));
    format!("{} {text}", paint("warning:", style, color))
}

/// With `-v`: the plan (or the engine's errors) of a finished instance, indented.
fn detail(r: &InstanceReport, root: &std::path::Path) -> Option<String> {
    let log = r.log.as_deref()?;
    if !matches!(r.status, InstanceStatus::Succeeded | InstanceStatus::Failed) {
        return None;
    }
    let text = crate::commands::show::instance_text(r, log, root);
    Some(
        text.trim_end()
            .lines()
            .map(|l| format!("    {l}"))
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

fn finished_line(r: &InstanceReport, color: bool) -> String {
    format!("  {} {:<40} {}", mark(r), r.stack, outcome(r, color))
}

fn mark(r: &InstanceReport) -> &'static str {
    match r.status {
        InstanceStatus::Succeeded => "✓",
        InstanceStatus::Unchanged => "=",
        InstanceStatus::Failed => "✗",
        InstanceStatus::Skipped => "-",
        InstanceStatus::Blocked => "!",
    }
}

/// `succeeded +1 ~0 -0 0.4s (reason)`.
fn outcome(r: &InstanceReport, color: bool) -> String {
    let mut line = format!("{} {}", status_text(r, color), counts(r, color));
    if r.status != InstanceStatus::Skipped {
        line.push_str(&format!(" {:.1}s", r.duration_ms as f64 / 1000.0));
    }
    if let Some(reason) = &r.reason {
        line.push_str(&format!("  ({reason})"));
    }
    line
}
