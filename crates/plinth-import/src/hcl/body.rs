//! Bodies of generated files: attributes, blocks and comments, rendered with `terraform fmt`'s
//! indentation and alignment.

use super::align::align;
use super::expr::{HclExpr, quote};

/// A body: the top level of a file or the inside of a block.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Body {
    items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq)]
enum Item {
    Attr(String, HclExpr),
    Block(Block),
    Comment(String),
    Blank,
}

/// A block: `ident "label" { body }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    ident: String,
    labels: Vec<String>,
    /// The block's body.
    pub body: Body,
}

impl Block {
    /// A block with `labels` and an empty body.
    pub fn new<S: Into<String>>(ident: &str, labels: impl IntoIterator<Item = S>) -> Block {
        Block {
            ident: ident.to_string(),
            labels: labels.into_iter().map(Into::into).collect(),
            body: Body::default(),
        }
    }

    /// Adds an attribute to the block's body.
    pub fn attr(mut self, key: &str, value: HclExpr) -> Block {
        self.body.attr(key, value);
        self
    }
}

impl Body {
    /// An empty body.
    pub fn new() -> Body {
        Body::default()
    }

    /// Adds `key = value`.
    pub fn attr(&mut self, key: &str, value: HclExpr) -> &mut Body {
        self.items.push(Item::Attr(key.to_string(), value));
        self
    }

    /// Adds a block.
    pub fn block(&mut self, block: Block) -> &mut Body {
        self.items.push(Item::Block(block));
        self
    }

    /// Adds a `# comment` line (one per line of `text`).
    pub fn comment(&mut self, text: &str) -> &mut Body {
        for line in text.lines() {
            self.items.push(Item::Comment(line.to_string()));
        }
        self
    }

    /// Adds an empty line (only kept between two items).
    pub fn blank(&mut self) -> &mut Body {
        self.items.push(Item::Blank);
        self
    }

    /// Whether nothing was added.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The body as a file: formatted, aligned, ending with one newline.
    pub fn to_file(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out, 0);
        let text = out.trim_end_matches('\n');
        let mut text = align(text);
        text.push('\n');
        text
    }

    fn render_into(&self, out: &mut String, indent: usize) {
        let pad = "  ".repeat(indent);
        let mut previous: Option<&Item> = None;
        for item in &self.items {
            // A blank line around blocks, as people write them; comments stick to what follows.
            let separate = match (previous, item) {
                (None, _) | (_, Item::Blank) | (Some(Item::Blank), _) => false,
                (Some(Item::Comment(_)), _) => false,
                (Some(Item::Block(_)), _) | (_, Item::Block(_)) => true,
                (Some(Item::Attr(..)), Item::Comment(_)) => true,
                _ => false,
            };
            if separate {
                out.push('\n');
            }
            match item {
                Item::Attr(key, value) => {
                    out.push_str(&format!("{pad}{key} = {}\n", value.render(indent)));
                }
                Item::Comment(text) if text.is_empty() => out.push_str(&format!("{pad}#\n")),
                Item::Comment(text) => out.push_str(&format!("{pad}# {text}\n")),
                Item::Blank => {
                    if previous.is_some() && !matches!(previous, Some(Item::Blank)) {
                        out.push('\n');
                    }
                }
                Item::Block(block) => {
                    out.push_str(&pad);
                    out.push_str(&block.ident);
                    for label in &block.labels {
                        out.push(' ');
                        out.push_str(&quote(label));
                    }
                    if block.body.is_empty() {
                        out.push_str(" {}\n");
                    } else {
                        out.push_str(" {\n");
                        block.body.render_into(out, indent + 1);
                        out.push_str(&format!("{pad}}}\n"));
                    }
                }
            }
            previous = Some(item);
        }
        // A trailing blank line inside a block is not terraform fmt's style.
        while out.ends_with("\n\n") {
            out.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_blocks_with_blank_lines_and_alignment() {
        let mut file = Body::new();
        file.comment("Converted by plinth.");
        file.block(
            Block::new("stack", Vec::<String>::new())
                .attr("description", HclExpr::str("VPC"))
                .attr("environments", HclExpr::strings(["dev"])),
        );
        file.block(Block::new("dependency", ["vpc"]).attr("stack", HclExpr::str("live/vpc")));
        let inputs = vec![
            (
                "vpc_id".to_string(),
                HclExpr::raw("dependency.vpc.outputs.vpc_id"),
            ),
            ("name".to_string(), HclExpr::str("x")),
        ];
        file.attr("inputs", HclExpr::Object(inputs));
        assert_eq!(
            file.to_file(),
            "# Converted by plinth.\nstack {\n  description  = \"VPC\"\n  environments = [\"dev\"]\n}\n\ndependency \"vpc\" {\n  stack = \"live/vpc\"\n}\n\ninputs = {\n  vpc_id = dependency.vpc.outputs.vpc_id\n  name   = \"x\"\n}\n"
        );
    }
}
