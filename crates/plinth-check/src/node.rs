//! A uniform read-only view over HCL bodies and object expressions.
//!
//! Real resources keep their settings in block bodies (`versioning { enabled = true }`);
//! `terraform_data` stand-ins keep the same settings in the `input` object
//! (`versioning = { enabled = true }` or `versioning = true`). Rules read both through `Node`.

use std::ops::Range;

use hcl_edit::Span;
use hcl_edit::expr::{Expression, Object, ObjectKey};
use hcl_edit::structure::{Block, Body};

/// A body or an object expression.
#[derive(Clone, Copy)]
pub enum Node<'a> {
    /// A block body.
    Body(&'a Body),
    /// An object constructor expression.
    Object(&'a Object),
}

/// An attribute found in a node, with its key span (for labels).
pub struct Found<'a> {
    /// The value.
    pub value: &'a Expression,
    /// Span of the whole `key = value` (or of the value when the key has no span).
    pub span: Range<usize>,
}

impl<'a> Node<'a> {
    /// The attribute `key`, if present.
    pub fn attr(self, key: &str) -> Option<Found<'a>> {
        match self {
            Node::Body(body) => body.get_attribute(key).map(|a| Found {
                value: &a.value,
                span: a.span().unwrap_or_else(|| span_of(&a.value)),
            }),
            Node::Object(object) => object.iter().find_map(|(k, v)| {
                (object_key(k) == Some(key)).then(|| {
                    let start = object_key_span(k).map_or(span_of(v.expr()).start, |s| s.start);
                    Found {
                        value: v.expr(),
                        span: start..span_of(v.expr()).end,
                    }
                })
            }),
        }
    }

    /// Nested settings called `key`: blocks in a body, object values in an object.
    pub fn children(self, key: &str) -> Vec<Node<'a>> {
        match self {
            Node::Body(body) => body
                .blocks()
                .filter(|b| b.ident.as_str() == key)
                .map(|b| Node::Body(&b.body))
                .collect(),
            Node::Object(_) => match self.attr(key).map(|f| f.value) {
                Some(Expression::Object(o)) => vec![Node::Object(o)],
                Some(Expression::Array(a)) => a
                    .iter()
                    .filter_map(|e| e.as_object().map(Node::Object))
                    .collect(),
                _ => Vec::new(),
            },
        }
    }

    /// Whether `key` is the literal `true`, or a nested setting whose `enabled` is.
    pub fn enabled(self, key: &str) -> bool {
        if let Some(found) = self.attr(key)
            && found.value.as_bool() == Some(true)
        {
            return true;
        }
        self.children(key)
            .iter()
            .any(|c| c.attr("enabled").and_then(|f| f.value.as_bool()) == Some(true))
    }

    /// The literal bool of attribute `key`.
    pub fn bool_attr(self, key: &str) -> Option<bool> {
        self.attr(key).and_then(|f| f.value.as_bool())
    }

    /// The literal string of attribute `key`.
    pub fn str_attr(self, key: &str) -> Option<&'a str> {
        self.attr(key).and_then(|f| f.value.as_str())
    }
}

/// The key of an object entry when it is an identifier or a literal string.
pub fn object_key(key: &ObjectKey) -> Option<&str> {
    match key {
        ObjectKey::Ident(ident) => Some(ident.as_str()),
        ObjectKey::Expression(Expression::String(s)) => Some(s.as_str()),
        ObjectKey::Expression(_) => None,
    }
}

fn object_key_span(key: &ObjectKey) -> Option<Range<usize>> {
    match key {
        ObjectKey::Ident(ident) => ident.span(),
        ObjectKey::Expression(e) => e.span(),
    }
}

/// The byte span of an expression (empty at 0 when the parser gave none).
pub fn span_of(expr: &Expression) -> Range<usize> {
    expr.span().unwrap_or(0..0)
}

/// The byte span of a block's header line: identifier and labels.
pub fn block_head(block: &Block) -> Range<usize> {
    let start = block.ident.span().map_or(0, |s| s.start);
    let end = block
        .labels
        .last()
        .and_then(|l| l.span())
        .or_else(|| block.ident.span())
        .map_or(start, |s| s.end);
    start..end
}

/// The literal string value of an expression: plain strings and templates without
/// interpolation (the parser keeps `"a"` as a string and `"${x}"` as a template).
pub fn literal_str(expr: &Expression) -> Option<&str> {
    match expr {
        Expression::String(s) => Some(s.as_str()),
        _ => None,
    }
}

/// Labels of a block as strings.
pub fn labels(block: &Block) -> Vec<&str> {
    block.labels.iter().map(|l| l.as_str()).collect()
}
