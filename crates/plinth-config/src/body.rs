//! Schema checking of an HCL body: known attributes and blocks, typed getters.
//!
//! Every getter records a diagnostic (with span and hint) instead of failing fast, so that one
//! run reports every mistake in a file.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use hcl_edit::Span;
use hcl_edit::structure::{Attribute, Block, Body, Structure};
use plinth_diag::{Diagnostic, SourceFile};
use serde_json::Value;

use crate::expr::{span_of, type_name};
use crate::{Expr, Spanned, did_you_mean};

/// The entries of a map attribute, in source order.
pub(crate) type Entries = Vec<(String, Spanned<Expr>)>;

/// A checked view of one body: its attributes by name and its blocks in order.
pub(crate) struct Reader<'b> {
    pub source: Arc<SourceFile>,
    attrs: HashMap<&'b str, &'b Attribute>,
    pub blocks: Vec<&'b Block>,
    /// The span of the whole block (or file) this body belongs to, for "missing" errors.
    pub span: Range<usize>,
    what: String,
}

impl<'b> Reader<'b> {
    /// Checks `body` against the allowed names; unknown ones become errors in `diags`.
    pub fn new(
        body: &'b Body,
        source: &Arc<SourceFile>,
        what: &str,
        span: Range<usize>,
        attributes: &[&str],
        blocks: &[&str],
        diags: &mut Vec<Diagnostic>,
    ) -> Self {
        let mut reader = Reader {
            source: Arc::clone(source),
            attrs: HashMap::new(),
            blocks: Vec::new(),
            span,
            what: what.to_string(),
        };
        for structure in body.iter() {
            match structure {
                Structure::Attribute(attr) => {
                    let name = attr.key.value().as_str();
                    if attributes.contains(&name) {
                        reader.attrs.insert(name, attr);
                    } else {
                        let mut d =
                            Diagnostic::error(format!("unknown attribute `{name}` in {what}")).at(
                                source,
                                attr.key.span().unwrap_or(0..0),
                                "not allowed here",
                            );
                        d = hint(d, name, attributes, blocks, "attribute");
                        diags.push(d);
                    }
                }
                Structure::Block(block) => {
                    let name = block.ident.value().as_str();
                    if blocks.contains(&name) {
                        reader.blocks.push(block);
                    } else {
                        let mut d = Diagnostic::error(format!("unknown block `{name}` in {what}"))
                            .at(
                                source,
                                block.ident.span().unwrap_or(0..0),
                                "not allowed here",
                            );
                        d = hint(d, name, blocks, attributes, "block");
                        diags.push(d);
                    }
                }
            }
        }
        reader
    }

    /// The lowered expression of attribute `name`, if present and supported.
    pub fn expr(&self, name: &str, diags: &mut Vec<Diagnostic>) -> Option<Spanned<Expr>> {
        let attr = self.attrs.get(name)?;
        match Expr::lower(&attr.value, &self.source) {
            Ok(e) => Some(e),
            Err(d) => {
                diags.push(d);
                None
            }
        }
    }

    /// The span of attribute `name` (key through value), if present.
    pub fn attr_span(&self, name: &str) -> Option<Range<usize>> {
        self.attrs
            .get(name)
            .map(|a| a.span().unwrap_or_else(|| span_of(&a.value)))
    }

    /// A literal string attribute.
    pub fn string(&self, name: &str, diags: &mut Vec<Diagnostic>) -> Option<Spanned<String>> {
        let e = self.expr(name, diags)?;
        match &e.value {
            Expr::Literal(Value::String(s)) => Some(Spanned::new(s.clone(), e.span)),
            other => {
                diags.push(self.type_error(name, "a string", other, &e.span));
                None
            }
        }
    }

    /// A string attribute that may contain `${…}` interpolations.
    pub fn template(&self, name: &str, diags: &mut Vec<Diagnostic>) -> Option<Spanned<Expr>> {
        let e = self.expr(name, diags)?;
        match &e.value {
            Expr::Literal(Value::String(_)) | Expr::Template(_) => Some(e),
            other => {
                diags.push(self.type_error(name, "a string", other, &e.span));
                None
            }
        }
    }

    /// A boolean attribute.
    pub fn bool(&self, name: &str, diags: &mut Vec<Diagnostic>) -> Option<Spanned<bool>> {
        let e = self.expr(name, diags)?;
        match &e.value {
            Expr::Literal(Value::Bool(b)) => Some(Spanned::new(*b, e.span)),
            other => {
                diags.push(self.type_error(name, "true or false", other, &e.span));
                None
            }
        }
    }

    /// A non-negative whole-number attribute.
    pub fn count(&self, name: &str, diags: &mut Vec<Diagnostic>) -> Option<Spanned<u64>> {
        let e = self.expr(name, diags)?;
        match &e.value {
            Expr::Literal(Value::Number(n)) if n.as_u64().is_some() => {
                Some(Spanned::new(n.as_u64()?, e.span))
            }
            other => {
                diags.push(self.type_error(name, "a whole number ≥ 0", other, &e.span));
                None
            }
        }
    }

    /// A non-negative number (integer or decimal), such as a budget in USD.
    pub fn number(&self, name: &str, diags: &mut Vec<Diagnostic>) -> Option<Spanned<f64>> {
        let e = self.expr(name, diags)?;
        match &e.value {
            Expr::Literal(Value::Number(n)) if n.as_f64().is_some_and(|f| f >= 0.0) => {
                Some(Spanned::new(n.as_f64()?, e.span))
            }
            other => {
                diags.push(self.type_error(name, "a number ≥ 0", other, &e.span));
                None
            }
        }
    }

    /// A duration written as a string (`72h`, `10m`, `90d`), in seconds.
    pub fn duration(&self, name: &str, diags: &mut Vec<Diagnostic>) -> Option<Spanned<u64>> {
        let s = self.string(name, diags)?;
        match crate::names::parse_duration(&s.value) {
            Some(secs) if secs > 0 => Some(Spanned::new(secs, s.span)),
            _ => {
                diags.push(
                    Diagnostic::error(format!("`{name}` in {} is not a duration", self.what)).at(
                        &self.source,
                        s.span,
                        "expected a number and a unit, e.g. `72h`, `30m`, `7d`",
                    ),
                );
                None
            }
        }
    }

    /// A map of literal strings, such as `credentials` or `endpoints`.
    pub fn string_map(
        &self,
        name: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Vec<(String, Spanned<String>)>> {
        let entries = self.object(name, diags)?;
        let mut out = Vec::with_capacity(entries.value.len());
        for (k, v) in entries.value {
            match v.value {
                Expr::Literal(Value::String(s)) => out.push((k, Spanned::new(s, v.span))),
                other => diags.push(self.type_error(name, "a map of strings", &other, &v.span)),
            }
        }
        Some(out)
    }

    /// Whether attribute `name` is written at all.
    pub fn has(&self, name: &str) -> bool {
        self.attrs.contains_key(name)
    }

    /// A list of literal strings.
    pub fn string_list(
        &self,
        name: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Spanned<Vec<Spanned<String>>>> {
        let e = self.expr(name, diags)?;
        let Expr::Array(items) = &e.value else {
            diags.push(self.type_error(name, "a list of strings", &e.value, &e.span));
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match &item.value {
                Expr::Literal(Value::String(s)) => {
                    out.push(Spanned::new(s.clone(), item.span.clone()))
                }
                other => {
                    diags.push(self.type_error(name, "a list of strings", other, &item.span));
                    return None;
                }
            }
        }
        Some(Spanned::new(out, e.span))
    }

    /// A list of string templates.
    pub fn template_list(
        &self,
        name: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Vec<Spanned<Expr>>> {
        let e = self.expr(name, diags)?;
        let Expr::Array(items) = e.value else {
            diags.push(self.type_error(name, "a list of strings", &e.value, &e.span));
            return None;
        };
        for item in &items {
            if !matches!(
                item.value,
                Expr::Literal(Value::String(_)) | Expr::Template(_)
            ) {
                diags.push(self.type_error(name, "a list of strings", &item.value, &item.span));
                return None;
            }
        }
        Some(items)
    }

    /// A map attribute (its entries stay expressions).
    pub fn object(&self, name: &str, diags: &mut Vec<Diagnostic>) -> Option<Spanned<Entries>> {
        let e = self.expr(name, diags)?;
        match e.value {
            Expr::Object(entries) => Some(Spanned::new(entries, e.span)),
            other => {
                diags.push(self.type_error(name, "a map `{ key = value }`", &other, &e.span));
                None
            }
        }
    }

    /// A map of literal values (no references).
    pub fn literal_map(
        &self,
        name: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Spanned<serde_json::Map<String, Value>>> {
        let entries = self.object(name, diags)?;
        let mut map = serde_json::Map::new();
        for (key, value) in entries.value {
            match value.value.as_literal() {
                Some(v) => {
                    map.insert(key, v);
                }
                None => {
                    diags.push(
                        Diagnostic::error(format!(
                            "`{name}` must hold literal values in {}",
                            self.what
                        ))
                        .at(
                            &self.source,
                            value.span,
                            "a reference is not allowed here",
                        ),
                    );
                    return None;
                }
            }
        }
        Some(Spanned::new(map, entries.span))
    }

    /// Records that a required attribute is missing.
    pub fn require<T>(
        &self,
        name: &str,
        value: Option<T>,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<T> {
        if value.is_none() && !self.attrs.contains_key(name) {
            diags.push(
                Diagnostic::error(format!("{} needs the attribute `{name}`", self.what)).at(
                    &self.source,
                    self.span.clone(),
                    format!("`{name}` is missing"),
                ),
            );
        }
        value
    }

    fn type_error(
        &self,
        name: &str,
        expected: &str,
        got: &Expr,
        span: &Range<usize>,
    ) -> Diagnostic {
        Diagnostic::error(format!("`{name}` in {} must be {expected}", self.what)).at(
            &self.source,
            span.clone(),
            format!("this is a {}", type_name(got)),
        )
    }
}

/// The span of a block's header (`name "label" {`), for short labels in messages.
pub(crate) fn header_span(block: &Block) -> Range<usize> {
    let start = block.ident.span().map_or(0, |s| s.start);
    let end = block
        .labels
        .last()
        .and_then(|l| l.span())
        .map_or_else(|| block.ident.span().map_or(start, |s| s.end), |s| s.end);
    start..end
}

/// The single string label of a block like `environment "dev"`, or a diagnostic.
pub(crate) fn one_label(
    block: &Block,
    source: &Arc<SourceFile>,
    kind: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<Spanned<String>> {
    match block.labels.as_slice() {
        [label] => Some(Spanned::new(
            label.as_str().to_string(),
            label.span().unwrap_or_else(|| header_span(block)),
        )),
        _ => {
            diags.push(
                Diagnostic::error(format!("a `{kind}` block takes exactly one label")).at(
                    source,
                    header_span(block),
                    format!("write `{kind} \"NAME\" {{ … }}`"),
                ),
            );
            None
        }
    }
}

/// Reports labels on a block that takes none.
pub(crate) fn no_labels(
    block: &Block,
    source: &Arc<SourceFile>,
    kind: &str,
    diags: &mut Vec<Diagnostic>,
) {
    if !block.labels.is_empty() {
        diags.push(
            Diagnostic::error(format!("a `{kind}` block takes no label")).at(
                source,
                header_span(block),
                format!("write `{kind} {{ … }}`"),
            ),
        );
    }
}

fn hint(
    d: Diagnostic,
    name: &str,
    same_kind: &[&str],
    other_kind: &[&str],
    kind: &str,
) -> Diagnostic {
    if let Some(s) = did_you_mean(name, same_kind.iter().copied()) {
        return d.with_help(format!("did you mean `{s}`?"));
    }
    if other_kind.contains(&name) {
        let form = if kind == "attribute" {
            format!("a block: `{name} {{ … }}`")
        } else {
            format!("an attribute: `{name} = …`")
        };
        return d.with_help(format!("`{name}` is {form}"));
    }
    if same_kind.is_empty() {
        d.with_help(format!("no {kind}s are allowed here"))
    } else {
        d.with_help(format!("allowed {kind}s: {}", same_kind.join(", ")))
    }
}
