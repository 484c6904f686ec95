//! A module's interface as a caller sees it: the variables it takes and the outputs it gives.
//! Wrappers generated around a module (`plinth import terragrunt`) are written from it.

use std::path::Path;

use hcl_edit::Span;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Body};

/// The variables and outputs of the module in one directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModuleInterface {
    /// `variable` blocks, sorted by name.
    pub variables: Vec<VariableDecl>,
    /// `output` blocks, sorted by name.
    pub outputs: Vec<OutputDecl>,
}

/// One `variable` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariableDecl {
    /// The variable's name.
    pub name: String,
    /// The `type` expression as written (`list(string)`).
    pub type_expr: Option<String>,
    /// No `default`: a caller must set it.
    pub required: bool,
    /// `sensitive = true`.
    pub sensitive: bool,
}

/// One `output` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputDecl {
    /// The output's name.
    pub name: String,
    /// `sensitive = true`: a wrapper re-exporting it must be sensitive too.
    pub sensitive: bool,
}

impl ModuleInterface {
    /// Reads the `.tf` files of `dir` (not its subdirectories); `None` when the directory has
    /// none or one does not parse.
    pub fn read(dir: &Path) -> Option<ModuleInterface> {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .ok()?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "tf") && p.is_file())
            .collect();
        if files.is_empty() {
            return None;
        }
        files.sort();
        let mut interface = ModuleInterface::default();
        for file in files {
            let text = std::fs::read_to_string(&file).ok()?;
            let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
            let body = hcl_edit::parser::parse_body(text).ok()?;
            interface.add(&body, text);
        }
        interface.variables.sort_by(|a, b| a.name.cmp(&b.name));
        interface.outputs.sort_by(|a, b| a.name.cmp(&b.name));
        Some(interface)
    }

    /// The variable called `name`.
    pub fn variable(&self, name: &str) -> Option<&VariableDecl> {
        self.variables.iter().find(|v| v.name == name)
    }

    /// The output called `name`.
    pub fn output(&self, name: &str) -> Option<&OutputDecl> {
        self.outputs.iter().find(|o| o.name == name)
    }

    fn add(&mut self, body: &Body, text: &str) {
        for block in body.blocks() {
            let Some(name) = block.labels.first().map(|l| l.as_str().to_string()) else {
                continue;
            };
            match block.ident.value().as_str() {
                "variable" => self.variables.push(VariableDecl {
                    type_expr: block
                        .body
                        .get_attribute("type")
                        .and_then(|a| a.value.span())
                        .and_then(|r| text.get(r))
                        .map(|t| t.trim().to_string()),
                    required: block.body.get_attribute("default").is_none(),
                    sensitive: is_true(block, "sensitive"),
                    name,
                }),
                "output" => self.outputs.push(OutputDecl {
                    sensitive: is_true(block, "sensitive"),
                    name,
                }),
                _ => {}
            }
        }
    }
}

fn is_true(block: &Block, attr: &str) -> bool {
    block
        .body
        .get_attribute(attr)
        .is_some_and(|a| matches!(&a.value, Expression::Bool(b) if *b.value()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_variables_and_outputs_with_their_flags() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join("main.tf"),
            "variable \"b\" {\n  type    = list(string)\n  default = []\n}\nvariable \"a\" {\n  sensitive = true\n}\noutput \"url\" {\n  value     = \"x\"\n  sensitive = true\n}\n",
        )
        .unwrap();
        let i = ModuleInterface::read(tmp.path()).unwrap();
        let names: Vec<&str> = i.variables.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert!(i.variable("a").unwrap().required && i.variable("a").unwrap().sensitive);
        let b = i.variable("b").unwrap();
        assert_eq!(
            (b.required, b.type_expr.as_deref()),
            (false, Some("list(string)"))
        );
        assert!(i.output("url").unwrap().sensitive);
        assert!(ModuleInterface::read(&tmp.path().join("missing")).is_none());
    }
}
