//! What the engine printed, read back from an instance's log: the plan as Terraform renders
//! it (for `plinth show` and `plan -v`) and its error diagnostics with their file and line.

/// One `Error:`/`Warning:` block the engine printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineMessage {
    /// `Error` or `Warning`.
    pub severity: String,
    /// The one-line summary after `Error: `.
    pub summary: String,
    /// `(file, line)` from its `on FILE line N` line, relative to the stack directory.
    pub location: Option<(String, u32)>,
    /// The whole block as printed, without the box drawing.
    pub text: String,
}

impl EngineMessage {
    /// `main.tf:3: Reference to undeclared input variable` (the file shown under `prefix`).
    pub fn one_line(&self, prefix: &str) -> String {
        match &self.location {
            Some((file, line)) if prefix.is_empty() || prefix == "." => {
                format!("{file}:{line}: {}", self.summary)
            }
            Some((file, line)) => format!("{prefix}/{file}:{line}: {}", self.summary),
            None => self.summary.clone(),
        }
    }
}

/// The output of the last engine command in `log` whose arguments start with `subcommand`.
fn last_command<'a>(log: &'a str, subcommand: &str) -> &'a str {
    let marker = format!("$ engine {subcommand}");
    let mut start = None;
    let mut offset = 0;
    for line in log.split_inclusive('\n') {
        if line.starts_with(&marker) {
            start = Some(offset + line.len());
        }
        offset += line.len();
    }
    let Some(start) = start else { return "" };
    let rest = &log[start..];
    let end = rest.find("\n$ engine ").map_or(rest.len(), |i| i + 1);
    &rest[..end]
}

/// The plan as the engine rendered it in the last `plan` (or `apply`) of `log`: drift notes,
/// resource changes, the `Plan:` line and output changes; `None` when there is none.
pub fn plan_rendering(log: &str) -> Option<String> {
    let out = {
        let plan = last_command(log, "plan");
        if plan.is_empty() {
            last_command(log, "apply")
        } else {
            plan
        }
    };
    let starts = [
        "Note: Objects have changed outside of Terraform",
        "Note: Objects have changed outside of OpenTofu",
        "Terraform used the selected providers",
        "OpenTofu used the selected providers",
        "No changes.",
    ];
    let start = starts.iter().filter_map(|s| out.find(s)).min()?;
    let body = &out[start..];
    let end = body
        .lines()
        .scan(0usize, |pos, line| {
            let here = *pos;
            *pos += line.len() + 1;
            Some((here, line))
        })
        .find(|(_, line)| {
            line.starts_with("───")
                || line.starts_with("Saved the plan to:")
                || line.starts_with("Do you want to perform these actions")
                || line.contains(": Creating...")
                || line.contains(": Destroying...")
                || line.contains(": Modifying...")
        })
        .map_or(body.len(), |(pos, _)| pos);
    let text = body[..end].trim_end();
    (!text.is_empty()).then(|| format!("{text}\n"))
}

/// Every `Error:` and `Warning:` block in `log`, in order, with or without the box drawing
/// Terraform adds on a terminal. Warnings about plinth's own CLI configuration are kept;
/// callers pick what they show.
pub fn messages(log: &str) -> Vec<EngineMessage> {
    let mut out: Vec<EngineMessage> = Vec::new();
    let mut current: Option<EngineMessage> = None;
    let flush = |current: &mut Option<EngineMessage>, out: &mut Vec<EngineMessage>| {
        if let Some(mut m) = current.take() {
            m.text = m.text.trim_end().to_string();
            out.push(m);
        }
    };
    for raw in log.lines() {
        let boxed = raw.starts_with('│') || raw.starts_with('╷') || raw.starts_with('╵');
        let line = raw
            .trim_start_matches(['╷', '╵'])
            .strip_prefix('│')
            .unwrap_or(raw.trim_start_matches(['╷', '╵']));
        let line = line.strip_prefix(' ').unwrap_or(line);
        let head = ["Error: ", "Warning: "].iter().find_map(|p| {
            line.strip_prefix(p)
                .map(|rest| (p.trim_end_matches(": "), rest))
        });
        if let Some((severity, summary)) = head {
            flush(&mut current, &mut out);
            current = Some(EngineMessage {
                severity: severity.to_string(),
                summary: summary.trim().to_string(),
                location: None,
                text: format!("{line}\n"),
            });
            continue;
        }
        let Some(m) = current.as_mut() else { continue };
        // A box ends at `╵`; an unboxed block at the next command or a blank-line-separated
        // top-level line that is not indented (the engine indents details by two spaces or
        // writes plain prose, so only a new command line ends it).
        if raw.starts_with('╵') || raw.starts_with("$ engine ") {
            flush(&mut current, &mut out);
            continue;
        }
        if !boxed && m.text.lines().count() > 40 {
            flush(&mut current, &mut out);
            continue;
        }
        if m.location.is_none()
            && let Some(loc) = location(line)
        {
            m.location = Some(loc);
        }
        m.text.push_str(line);
        m.text.push('\n');
    }
    flush(&mut current, &mut out);
    out
}

/// `(file, line)` from `  on main.tf line 3, in resource …:`.
fn location(line: &str) -> Option<(String, u32)> {
    let rest = line.trim_start().strip_prefix("on ")?;
    let (file, rest) = rest.split_once(" line ")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some((file.to_string(), digits.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "$ engine init -input=false\nInitializing...\n$ engine plan -input=false -no-color\n\
Terraform used the selected providers to generate the following execution\nplan. Resource actions are indicated with the following symbols:\n  + create\n\n\
Terraform will perform the following actions:\n\n  # terraform_data.x will be created\n  + resource \"terraform_data\" \"x\" {\n      + id = (known after apply)\n    }\n\n\
Plan: 1 to add, 0 to change, 0 to destroy.\n\nChanges to Outputs:\n  + o = (known after apply)\n\n\
─────────────────────────────────────────────────────────────────────────────\n\nSaved the plan to: p.tfplan\n";

    #[test]
    fn the_rendering_is_the_plan_section_of_the_last_plan() {
        let text = plan_rendering(LOG).unwrap();
        assert!(
            text.starts_with("Terraform used the selected providers"),
            "{text}"
        );
        assert!(
            text.contains("# terraform_data.x will be created"),
            "{text}"
        );
        assert!(text.contains("Changes to Outputs:"), "{text}");
        assert!(!text.contains("Saved the plan"), "{text}");
        assert!(plan_rendering("$ engine init\nok\n").is_none());
    }

    #[test]
    fn errors_with_and_without_boxes_give_file_and_line() {
        let plain = "$ engine plan\n\nError: Reference to undeclared input variable\n\n  on bad.tf line 1, in resource \"terraform_data\" \"y\":\n   1: resource \"terraform_data\" \"y\" { input = var.nope }\n\nAn input variable with the name \"nope\" has not been declared.\n";
        let m = messages(plain);
        assert_eq!(m.len(), 1, "{m:?}");
        assert_eq!(m[0].summary, "Reference to undeclared input variable");
        assert_eq!(m[0].location, Some(("bad.tf".into(), 1)));
        assert_eq!(
            m[0].one_line("services/api"),
            "services/api/bad.tf:1: Reference to undeclared input variable"
        );
        let boxed = "╷\n│ Warning: Unable to open CLI configuration file\n│\n│ The CLI configuration file does not exist.\n╵\n╷\n│ Error: Unsupported argument\n│ \n│   on main.tf line 12, in resource \"x\" \"y\":\n│   12:   nope = 1\n╵\n";
        let m = messages(boxed);
        assert_eq!(m.len(), 2, "{m:?}");
        assert_eq!(m[0].severity, "Warning");
        assert_eq!(m[1].severity, "Error");
        assert_eq!(m[1].location, Some(("main.tf".into(), 12)));
        assert!(m[1].text.contains("nope = 1"), "{}", m[1].text);
    }
}
