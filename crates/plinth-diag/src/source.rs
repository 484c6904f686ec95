//! Source files with a line index, shared by diagnostics.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

/// A file's text plus the path to show for it.
#[derive(Debug)]
pub struct SourceFile {
    path: Box<str>,
    text: OnceLock<Box<str>>,
    /// Where a deferred text is read from when a diagnostic first needs it.
    file: Option<PathBuf>,
    /// Built on the first diagnostic: tens of thousands of files are kept for errors that
    /// almost never come.
    line_starts: OnceLock<Vec<usize>>,
}

impl SourceFile {
    /// Wraps `text`, shown as `path` (usually relative to the project root).
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Arc<Self> {
        Arc::new(SourceFile {
            path: path.into().into_boxed_str(),
            text: OnceLock::from(text.into().into_boxed_str()),
            file: None,
            line_starts: OnceLock::new(),
        })
    }

    /// A file already parsed and checked, whose text is read again from `file` only if a
    /// diagnostic needs it (a later error about the graph), so that a project of 50,000
    /// stacks does not hold every file's text.
    pub fn deferred(path: impl Into<String>, file: PathBuf) -> Arc<Self> {
        Arc::new(SourceFile {
            path: path.into().into_boxed_str(),
            text: OnceLock::new(),
            file: Some(file),
            line_starts: OnceLock::new(),
        })
    }

    fn line_starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text().match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        })
    }

    /// The path shown in messages.
    pub fn display_path(&self) -> &str {
        &self.path
    }

    /// The whole text (for a deferred file, as read now; empty if it cannot be read).
    pub fn text(&self) -> &str {
        self.text.get_or_init(|| {
            self.file
                .as_ref()
                .and_then(|f| std::fs::read(f).ok())
                .map(|b| String::from_utf8_lossy(&b).into_owned().into_boxed_str())
                .unwrap_or_default()
        })
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let text = self.text();
        let offset = offset.min(text.len());
        let starts = self.line_starts();
        let line = starts.partition_point(|&s| s <= offset) - 1;
        let start = starts[line];
        let col = text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, col + 1)
    }

    /// Byte offset of a 1-based line and column; clamps to the text.
    pub fn offset(&self, line: usize, col: usize) -> usize {
        let Some(&start) = self.line_starts().get(line.saturating_sub(1)) else {
            return self.text().len();
        };
        let rest = &self.text()[start..];
        let end_of_line = rest.find('\n').unwrap_or(rest.len());
        let within = rest[..end_of_line]
            .char_indices()
            .nth(col.saturating_sub(1))
            .map_or(end_of_line, |(i, _)| i);
        start + within
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_line_columns_round_trip() {
        let f = SourceFile::new("x", "ab\ncdé\nf");
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        assert_eq!(f.line_col(7), (2, 4));
        assert_eq!(f.offset(2, 4), 7);
        assert_eq!(f.offset(3, 1), 8);
        assert_eq!(f.offset(9, 1), f.text().len());
    }
}
