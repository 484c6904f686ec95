//! Line numbers for notes about `atlantis.yaml`. The YAML parser gives values without
//! positions, so the lines are found in the text: the items of the block-style `projects:`
//! list and the entries of `workflows:`, then a key or text within them. Only used to point at
//! a place; a file in flow style simply gets notes without lines.

/// Where the projects and workflows start and end in the file.
pub(crate) struct Lines<'a> {
    lines: Vec<&'a str>,
    projects: Vec<(usize, usize)>,
    workflows: Vec<(String, usize, usize)>,
}

impl<'a> Lines<'a> {
    /// Indexes `text`.
    pub fn new(text: &'a str) -> Lines<'a> {
        let lines: Vec<&str> = text.lines().collect();
        let projects = items(&lines, "projects:");
        let workflows = entries(&lines, "workflows:");
        Lines {
            lines,
            projects,
            workflows,
        }
    }

    /// The 1-based line of the `index`th project, or of `key` inside it.
    pub fn project(&self, index: usize, key: Option<&str>) -> Option<usize> {
        let (start, end) = *self.projects.get(index)?;
        match key {
            None => Some(start + 1),
            Some(k) => self.find(start, end, &format!("{k}:")).or(Some(start + 1)),
        }
    }

    /// The 1-based line of workflow `name`, or of `text` inside it.
    pub fn workflow(&self, name: &str, text: Option<&str>) -> Option<usize> {
        let (_, start, end) = self.workflows.iter().find(|(n, _, _)| n == name)?;
        match text {
            None => Some(start + 1),
            Some(t) => self.find(*start, *end, t).or(Some(start + 1)),
        }
    }

    /// The 1-based line of a top-level `key:`.
    pub fn top(&self, key: &str) -> Option<usize> {
        let wanted = format!("{key}:");
        self.lines
            .iter()
            .position(|l| l.starts_with(&wanted))
            .map(|i| i + 1)
    }

    fn find(&self, start: usize, end: usize, needle: &str) -> Option<usize> {
        (start..end)
            .find(|&i| {
                if needle.ends_with(':') {
                    self.lines[i]
                        .trim_start()
                        .trim_start_matches("- ")
                        .starts_with(needle)
                } else {
                    self.lines[i].contains(needle)
                }
            })
            .map(|i| i + 1)
    }
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

fn block_after(lines: &[&str], header: &str) -> Option<(usize, usize)> {
    let start = lines.iter().position(|l| l.trim_end() == header)? + 1;
    let end = (start..lines.len())
        .find(|&i| {
            !lines[i].trim().is_empty()
                && !lines[i].trim_start().starts_with('#')
                && indent(lines[i]) == 0
                && !lines[i].starts_with('-')
        })
        .unwrap_or(lines.len());
    Some((start, end))
}

/// `(start, end)` line indexes of each `- ` item under `header`.
fn items(lines: &[&str], header: &str) -> Vec<(usize, usize)> {
    let Some((start, end)) = block_after(lines, header) else {
        return Vec::new();
    };
    let Some(first) = (start..end).find(|&i| lines[i].trim_start().starts_with("- ")) else {
        return Vec::new();
    };
    let level = indent(lines[first]);
    let starts: Vec<usize> = (first..end)
        .filter(|&i| indent(lines[i]) == level && lines[i].trim_start().starts_with("- "))
        .collect();
    starts
        .iter()
        .enumerate()
        .map(|(k, &s)| (s, starts.get(k + 1).copied().unwrap_or(end)))
        .collect()
}

/// `(name, start, end)` of each `name:` entry under `header`.
fn entries(lines: &[&str], header: &str) -> Vec<(String, usize, usize)> {
    let Some((start, end)) = block_after(lines, header) else {
        return Vec::new();
    };
    let Some(first) = (start..end).find(|&i| !lines[i].trim().is_empty()) else {
        return Vec::new();
    };
    let level = indent(lines[first]);
    let starts: Vec<(String, usize)> = (first..end)
        .filter(|&i| indent(lines[i]) == level && lines[i].trim_end().ends_with(':'))
        .map(|i| (lines[i].trim().trim_end_matches(':').to_string(), i))
        .collect();
    starts
        .iter()
        .enumerate()
        .map(|(k, (n, s))| (n.clone(), *s, starts.get(k + 1).map_or(end, |x| x.1)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_projects_keys_and_workflow_steps() {
        let text = "version: 3\nprojects:\n- name: a\n  dir: x\n  workflow: w\n- dir: y\n  autoplan:\n    when_modified: [\"*.tf\"]\nworkflows:\n  w:\n    plan:\n      steps:\n      - run: make lint\n";
        let l = Lines::new(text);
        assert_eq!(l.project(0, None), Some(3));
        assert_eq!(l.project(0, Some("workflow")), Some(5));
        assert_eq!(l.project(1, Some("when_modified")), Some(8));
        assert_eq!(l.workflow("w", Some("run: make lint")), Some(13));
        assert_eq!(l.top("workflows"), Some(9));
    }
}
