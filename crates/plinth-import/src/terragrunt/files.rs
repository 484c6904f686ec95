//! Reading Terragrunt's files once each: a unit's `terragrunt.hcl` and the files it includes or
//! reads (`root.hcl`, `env.hcl`…) are parsed once, however many units share them.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use hcl_edit::structure::Body;
use plinth_diag::{Diagnostic, SourceFile};

use super::value::{Eval, PVal, Problem};
use crate::proposal::Location;

/// One parsed file.
pub(crate) struct ParsedFile {
    /// Absolute path.
    pub path: PathBuf,
    /// Path shown to the user: relative to the import root.
    pub display: String,
    /// Its text, for line numbers.
    pub source: Arc<SourceFile>,
    /// The syntax tree.
    pub body: Body,
}

impl ParsedFile {
    /// The place of `span` in this file.
    pub fn loc(&self, span: Option<Range<usize>>) -> Location {
        Location {
            file: self.display.clone(),
            line: span.map(|r| self.source.line_col(r.start).0),
        }
    }

    /// The file's directory.
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("/"))
    }
}

/// Parsed files and evaluated `read_terragrunt_config` results, shared by every unit.
pub(crate) struct Loader {
    /// The import root: paths are shown relative to it.
    pub root: PathBuf,
    files: Mutex<HashMap<PathBuf, Result<Arc<ParsedFile>, Problem>>>,
    reads: Mutex<HashMap<PathBuf, Eval<PVal>>>,
    errors: Mutex<Vec<Diagnostic>>,
}

impl Loader {
    /// A loader for the tree at `root`.
    pub fn new(root: &Path) -> Loader {
        Loader {
            root: root.to_path_buf(),
            files: Mutex::new(HashMap::new()),
            reads: Mutex::new(HashMap::new()),
            errors: Mutex::new(Vec::new()),
        }
    }

    /// `path` relative to the import root, `/`-separated (absolute when outside it).
    pub fn display(&self, path: &Path) -> String {
        match path.strip_prefix(&self.root) {
            Ok(rel) if rel.as_os_str().is_empty() => ".".into(),
            Ok(rel) => rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/"),
            Err(_) => path.display().to_string(),
        }
    }

    /// The parsed file at `path`; a syntax error is recorded as a diagnostic (the import
    /// stops with it) and returned as a problem.
    pub fn parse(&self, path: &Path) -> Result<Arc<ParsedFile>, Problem> {
        if let Some(hit) = self
            .files
            .lock()
            .expect("no panic holding the lock")
            .get(path)
        {
            return hit.clone();
        }
        let display = self.display(path);
        let result = match std::fs::read_to_string(path) {
            Err(e) => Err(Problem {
                loc: Location {
                    file: display.clone(),
                    line: None,
                },
                message: format!("cannot read {display}: {e}"),
            }),
            Ok(text) => match plinth_config::parse_hcl(&display, &text) {
                Ok((source, body)) => Ok(Arc::new(ParsedFile {
                    path: path.to_path_buf(),
                    display: display.clone(),
                    source,
                    body,
                })),
                Err(diag) => {
                    let message = diag.one_line();
                    self.errors
                        .lock()
                        .expect("no panic holding the lock")
                        .push(*diag);
                    Err(Problem {
                        loc: Location {
                            file: display.clone(),
                            line: None,
                        },
                        message,
                    })
                }
            },
        };
        self.files
            .lock()
            .expect("no panic holding the lock")
            .entry(path.to_path_buf())
            .or_insert(result)
            .clone()
    }

    /// A memoised `read_terragrunt_config` result.
    pub fn read_config(&self, path: &Path, compute: impl FnOnce() -> Eval<PVal>) -> Eval<PVal> {
        if let Some(hit) = self
            .reads
            .lock()
            .expect("no panic holding the lock")
            .get(path)
        {
            return hit.clone();
        }
        let value = compute();
        self.reads
            .lock()
            .expect("no panic holding the lock")
            .insert(path.to_path_buf(), value.clone());
        value
    }

    /// The syntax errors met, sorted by file.
    pub fn take_errors(&self) -> Vec<Diagnostic> {
        let mut errors =
            std::mem::take(&mut *self.errors.lock().expect("no panic holding the lock"));
        errors.sort_by_key(|d| d.one_line());
        errors.dedup_by(|a, b| a.one_line() == b.one_line());
        errors
    }
}

/// Lexically removes `.` and `..`.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The relative path from directory `from` to `to` (both absolute, normalized), `/`-separated;
/// `.` when equal.
pub(crate) fn relative(from: &Path, to: &Path) -> String {
    let a: Vec<_> = from.components().collect();
    let b: Vec<_> = to.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<String> = std::iter::repeat_n("..".to_string(), a.len() - common).collect();
    parts.extend(
        b[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative(Path::new("/r"), Path::new("/r/live/dev")),
            "live/dev"
        );
        assert_eq!(
            relative(Path::new("/r/live/dev/vpc"), Path::new("/r/modules/vpc")),
            "../../../modules/vpc"
        );
        assert_eq!(relative(Path::new("/r/a"), Path::new("/r/a")), ".");
        assert_eq!(normalize(Path::new("/r/a/../b/./c")), Path::new("/r/b/c"));
    }
}
