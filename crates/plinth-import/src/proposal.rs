//! What an adoption command proposes: the files it would write and the notes on what it could
//! not convert. Writing never replaces a file that exists.

use std::io::Write;
use std::path::Path;

use plinth_config::{PROJECT_FILE, ProjectConfig, STACK_FILE, StackConfig};

/// Lines every plinth repository's `.gitignore` needs: plinth's work area and the override
/// files it generates into stacks (backend, endpoints).
pub const GITIGNORE_LINES: [&str; 2] = [".plinth/", "plinth_*_override.tf"];

/// Files to write and notes for the user.
#[derive(Debug, Clone, Default)]
pub struct Proposal {
    /// New files, in the order they are shown.
    pub files: Vec<NewFile>,
    /// What was not converted or behaves differently, in source order.
    pub notes: Vec<Note>,
    /// Ids of the stacks proposed.
    pub stacks: Vec<String>,
    /// Environment names proposed.
    pub environments: Vec<String>,
}

/// One file to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFile {
    /// Path relative to the project root, `/`-separated.
    pub path: String,
    /// Its whole text.
    pub text: String,
    /// Why it is written (shown next to the path).
    pub purpose: String,
}

/// A place in the user's files.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// Path relative to the project root.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}", self.file),
            None => f.write_str(&self.file),
        }
    }
}

/// How much a note matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NoteKind {
    /// Something in the source has no equivalent and was left out: the user must act.
    NotConverted,
    /// Converted, but plinth behaves differently (state location, bucket creation…).
    Changed,
    /// A hint: something plinth could do better with a small edit.
    Suggestion,
}

impl NoteKind {
    /// The word shown before the note.
    pub fn label(self) -> &'static str {
        match self {
            NoteKind::NotConverted => "not converted",
            NoteKind::Changed => "changed",
            NoteKind::Suggestion => "suggestion",
        }
    }
}

/// A note about the conversion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// Where in the source, when it comes from one place.
    pub location: Option<Location>,
    /// How much it matters.
    pub kind: NoteKind,
    /// What happened and what to do.
    pub message: String,
}

impl Note {
    /// A note at `file:line`.
    pub fn at(file: &str, line: Option<usize>, kind: NoteKind, message: impl Into<String>) -> Note {
        Note {
            location: Some(Location {
                file: file.to_string(),
                line,
            }),
            kind,
            message: message.into(),
        }
    }

    /// A note about the whole conversion.
    pub fn general(kind: NoteKind, message: impl Into<String>) -> Note {
        Note {
            location: None,
            kind,
            message: message.into(),
        }
    }
}

/// What writing a proposal did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteReport {
    /// Files created.
    pub written: Vec<String>,
    /// Files that already existed and were left as they were.
    pub kept: Vec<String>,
    /// Lines appended to `.gitignore` (or written into a new one).
    pub gitignore_added: Vec<String>,
}

impl Proposal {
    /// Adds a file to write.
    pub fn file(&mut self, path: impl Into<String>, text: String, purpose: impl Into<String>) {
        self.files.push(NewFile {
            path: path.into(),
            text,
            purpose: purpose.into(),
        });
    }

    /// Adds a note.
    pub fn note(&mut self, note: Note) {
        self.notes.push(note);
    }

    /// Parses every proposed `plinth.hcl` and `stack.hcl` with plinth's own parser; returns
    /// the problems as `file:line:col: message` lines (empty when all parse).
    pub fn validate(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for f in &self.files {
            let name = f.path.rsplit('/').next().unwrap_or(&f.path);
            let result = if name == PROJECT_FILE {
                ProjectConfig::parse(&f.path, &f.text, "project").err()
            } else if name == STACK_FILE {
                StackConfig::parse(&f.path, &f.text).err()
            } else {
                None
            };
            problems.extend(result.into_iter().flatten().map(|d| d.one_line()));
        }
        problems
    }

    /// Notes sorted by place (general ones first), then kind.
    pub fn sorted_notes(&self) -> Vec<&Note> {
        let mut notes: Vec<&Note> = self.notes.iter().collect();
        notes.sort_by(|a, b| (&a.location, a.kind).cmp(&(&b.location, b.kind)));
        notes
    }

    /// Creates every proposed file under `root` that does not exist yet, and adds the missing
    /// plinth lines to `.gitignore`.
    pub fn write(&self, root: &Path) -> std::io::Result<WriteReport> {
        use rayon::prelude::*;
        // File creation is most of an import's time (the 1,000-unit benchmark creates 2,000
        // files): spread it over the cores.
        let outcomes: Vec<std::io::Result<bool>> = self
            .files
            .par_iter()
            .map(|f| create_new(&root.join(&f.path), &f.text))
            .collect();
        let mut report = WriteReport::default();
        for (f, outcome) in self.files.iter().zip(outcomes) {
            if outcome? {
                report.written.push(f.path.clone());
            } else {
                report.kept.push(f.path.clone());
            }
        }
        report.gitignore_added = ensure_gitignore(root)?;
        Ok(report)
    }
}

/// Writes `text` to a new file at `path`; `false` when the file exists (it is left alone).
fn create_new(path: &Path, text: &str) -> std::io::Result<bool> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    // create_new: a file that appeared since the proposal was made is not replaced.
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(mut file) => {
            file.write_all(text.as_bytes())?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

/// Appends the plinth lines missing from `root/.gitignore` (creating it if needed).
pub fn ensure_gitignore(root: &Path) -> std::io::Result<Vec<String>> {
    let path = root.join(".gitignore");
    let existing = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    let present: Vec<&str> = existing.lines().map(str::trim).collect();
    let missing: Vec<String> = GITIGNORE_LINES
        .iter()
        .filter(|l| {
            !present
                .iter()
                .any(|p| p == *l || p.trim_start_matches('/') == **l)
        })
        .map(|l| l.to_string())
        .collect();
    if missing.is_empty() {
        return Ok(missing);
    }
    let mut text = String::new();
    if !existing.is_empty() && !existing.ends_with('\n') {
        text.push('\n');
    }
    if !existing.is_empty() {
        text.push('\n');
    }
    text.push_str("# plinth: work area and generated override files\n");
    for line in &missing {
        text.push_str(line);
        text.push('\n');
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)?;
    file.write_all(text.as_bytes())?;
    Ok(missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_keeps_existing_files_and_completes_gitignore() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("keep.txt"), "mine").unwrap();
        std::fs::write(tmp.path().join(".gitignore"), "target/\n.plinth/").unwrap();
        let mut p = Proposal::default();
        p.file("keep.txt", "theirs".into(), "test");
        p.file("a/b.txt", "new".into(), "test");
        let report = p.write(tmp.path()).unwrap();
        assert_eq!(report.written, ["a/b.txt"]);
        assert_eq!(report.kept, ["keep.txt"]);
        assert_eq!(report.gitignore_added, ["plinth_*_override.tf"]);
        assert_eq!(
            std::fs::read_to_string(tmp.path().join("keep.txt")).unwrap(),
            "mine"
        );
        let gi = std::fs::read_to_string(tmp.path().join(".gitignore")).unwrap();
        assert!(gi.starts_with("target/\n.plinth/\n\n# plinth"), "{gi}");
        assert!(ensure_gitignore(tmp.path()).unwrap().is_empty());
    }

    #[test]
    fn validate_reports_unparseable_stack_files() {
        let mut p = Proposal::default();
        p.file("a/stack.hcl", "stak {}\n".into(), "test");
        p.file("a/main.tf", "not checked".into(), "test");
        let problems = p.validate();
        assert_eq!(problems.len(), 1);
        assert!(problems[0].starts_with("a/stack.hcl:1:1:"), "{problems:?}");
    }
}
