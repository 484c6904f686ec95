//! Source files parsed once into the model every rule reads.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use hcl_edit::structure::{Block, Body};
use plinth_diag::SourceFile;

use crate::node::{Node, labels};

/// What kind of file a unit is, which decides the rules that read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// Terraform code.
    Tf,
    /// Variable values.
    Tfvars,
    /// plinth configuration (stack.hcl, plinth.hcl).
    Hcl,
}

impl FileKind {
    /// The kind of a path by its extension, if plinth reads it.
    pub fn of(path: &Path) -> Option<FileKind> {
        match path.extension()?.to_str()? {
            "tf" => Some(FileKind::Tf),
            "tfvars" => Some(FileKind::Tfvars),
            "hcl" => Some(FileKind::Hcl),
            _ => None,
        }
    }
}

/// One file: its text (BOM stripped), and its parsed body or the parse error.
pub struct SourceUnit {
    /// Text and display path shared with diagnostics.
    pub source: Arc<SourceFile>,
    /// Kind of file.
    pub kind: FileKind,
    /// Parsed body, when the file parses.
    pub body: Option<Body>,
    /// Byte offset and message of the parse error.
    pub parse_error: Option<(usize, String)>,
}

impl SourceUnit {
    /// Reads and parses `path`, shown as `display`.
    pub fn load(path: &Path, display: String, kind: FileKind) -> std::io::Result<SourceUnit> {
        let text = std::fs::read_to_string(path)?;
        Ok(Self::from_text(display, text, kind))
    }

    /// Reads and parses `path`; a file that cannot be read (not UTF-8, permissions) becomes
    /// an empty unit whose error is reported instead of being skipped silently.
    pub fn load_or_report(path: &Path, display: String, kind: FileKind) -> SourceUnit {
        match Self::load(path, display.clone(), kind) {
            Ok(unit) => unit,
            Err(e) => SourceUnit {
                source: SourceFile::new(display, String::new()),
                kind,
                body: None,
                parse_error: Some((0, format!("cannot read the file: {e}"))),
            },
        }
    }

    /// Parses text already in memory.
    pub fn from_text(display: String, mut text: String, kind: FileKind) -> SourceUnit {
        // hcl-edit rejects a leading BOM that Go HCL (and so terraform) accepts.
        if text.starts_with('\u{feff}') {
            text.drain(..3);
        }
        // plinth's own .hcl files were parsed (and their errors reported) when the project
        // loaded; they are parsed again only when a suppression needs their structure.
        let needed = kind != FileKind::Hcl || text.contains("plinth:ignore");
        let parsed = if needed {
            Some(hcl_edit::parser::parse_body(&text))
        } else {
            None
        };
        let (body, parse_error) = match parsed {
            None => (None, None),
            Some(Ok(body)) => (Some(body), None),
            Some(Err(e)) => (None, Some((e.location().offset(), e.message().to_owned()))),
        };
        SourceUnit {
            source: SourceFile::new(display, text),
            kind,
            body,
            parse_error,
        }
    }

    /// Top-level blocks called `ident`.
    pub fn blocks<'a>(&'a self, ident: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
        self.body.iter().flat_map(move |b| b.get_blocks(ident))
    }

    /// The source text of a span.
    pub fn text(&self, span: Range<usize>) -> &str {
        self.source.text().get(span).unwrap_or("")
    }
}

/// A resource as rules see it: real, or a `terraform_data` stand-in for another type.
pub struct ResourceView<'a> {
    /// The effective resource type (`aws_dynamodb_table` for a stand-in of one).
    pub kind: &'a str,
    /// The resource name.
    pub name: &'a str,
    /// Where its settings are.
    pub node: Node<'a>,
    /// The block, for spans.
    pub block: &'a Block,
    /// The file it is in.
    pub unit: &'a SourceUnit,
    /// Whether this is a `terraform_data` stand-in.
    pub standin: bool,
}

/// A Terraform module: a stack's root module or a local module it calls.
pub struct ModuleModel {
    /// Display path of the directory (relative to the project root).
    pub display: String,
    /// Whether this is a stack (root module) rather than a called module.
    pub is_stack: bool,
    /// The `.tf` files.
    pub tf: Vec<Arc<SourceUnit>>,
    /// Whether a README.md (any case) is present.
    pub has_readme: bool,
    /// stack.hcl, when this is a stack and has one.
    pub stack_file: Option<Arc<SourceUnit>>,
}

impl ModuleModel {
    /// Every resource in the module, stand-ins resolved to their type.
    pub fn resources(&self) -> Vec<ResourceView<'_>> {
        let mut out = Vec::new();
        for unit in &self.tf {
            for block in unit.blocks("resource") {
                let labels = labels(block);
                let (Some(kind), Some(name)) = (labels.first(), labels.get(1)) else {
                    continue;
                };
                if *kind == "terraform_data"
                    && let Some(found) = Node::Body(&block.body).attr("input")
                    && let Some(object) = found.value.as_object()
                    && let Some(real) = Node::Object(object).str_attr("resource_type")
                {
                    out.push(ResourceView {
                        kind: real,
                        name,
                        node: Node::Object(object),
                        block,
                        unit,
                        standin: true,
                    });
                    continue;
                }
                out.push(ResourceView {
                    kind,
                    name,
                    node: Node::Body(&block.body),
                    block,
                    unit,
                    standin: false,
                });
            }
        }
        out
    }
}
