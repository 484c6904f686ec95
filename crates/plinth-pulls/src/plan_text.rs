//! The plan as the engine printed it, cut out of an instance's log (which holds every engine
//! command of the instance, each headed by a `$ engine …` line, and is already masked).

/// The text of the last `plan` command in `log`, from the engine's account of the changes
/// (noise such as CLI configuration warnings dropped); the whole plan section when it has no
/// such account.
pub(crate) fn from_log(log: &str) -> String {
    let mut section: Option<Vec<&str>> = None;
    let mut current: Option<Vec<&str>> = None;
    for line in log.lines() {
        if let Some(cmd) = line.strip_prefix("$ engine ") {
            if let Some(done) = current.take() {
                section = Some(done);
            }
            if cmd.starts_with("plan") {
                current = Some(Vec::new());
            }
            continue;
        }
        if let Some(lines) = current.as_mut() {
            lines.push(line);
        }
    }
    let lines = current.or(section).unwrap_or_default();
    let start = lines
        .iter()
        .position(|l| {
            l.starts_with("Terraform used the selected providers")
                || l.starts_with("OpenTofu used the selected providers")
                || l.starts_with("Terraform will perform")
                || l.starts_with("OpenTofu will perform")
                || l.starts_with("No changes.")
                || l.starts_with("Changes to Outputs")
        })
        .unwrap_or(0);
    let text = lines[start..].join("\n");
    text.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::from_log;

    #[test]
    fn takes_the_last_plan_from_the_changes_on() {
        let log = "$ engine init -input=false\nInitializing the backend...\n\
                   $ engine plan -input=false -out=x\nThere are some problems with the CLI configuration:\n\
                   │ Warning\n\nTerraform will perform the following actions:\n\n  # a will be created\n\
                   Plan: 1 to add, 0 to change, 0 to destroy.\n$ engine show -json x\n";
        let text = from_log(log);
        assert!(text.starts_with("Terraform will perform"), "{text}");
        assert!(text.ends_with("Plan: 1 to add, 0 to change, 0 to destroy."));
        assert!(!text.contains("Initializing") && !text.contains("Warning"));
    }

    #[test]
    fn a_log_without_a_plan_gives_nothing() {
        assert_eq!(from_log("$ engine init\nok\n"), "");
    }
}
