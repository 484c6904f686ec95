//! The root module written into a unit whose code lives elsewhere (`terraform { source }`):
//! it calls that module with the unit's inputs and re-exports its outputs, which is what
//! Terragrunt's working copy did.

use plinth_project::{ModuleInterface, VariableDecl};

use crate::hcl::{Block, Body, HclExpr, is_identifier};

/// A wrapper to write.
pub(crate) struct Wrapper<'a> {
    /// The unit's `terragrunt.hcl`, for the header.
    pub unit_file: &'a str,
    /// The `module` block's label.
    pub module_name: String,
    /// The module source as Terraform writes it.
    pub source: String,
    /// A registry module's version.
    pub version: Option<String>,
    /// What is known of the module.
    pub interface: Option<&'a ModuleInterface>,
    /// Variables to declare and pass on.
    pub variables: Vec<String>,
    /// Outputs to re-export: name and whether sensitive.
    pub outputs: Vec<(String, bool)>,
    /// Also export the whole module as one sensitive output (its outputs are unknown).
    pub all_outputs: bool,
    /// `required_version`.
    pub required_version: String,
}

/// The output holding every output of a module whose outputs plinth cannot read.
pub(crate) const ALL_OUTPUTS: &str = "module_outputs";

impl Wrapper<'_> {
    /// The file's text.
    pub fn render(&self) -> String {
        let mut file = Body::new();
        file.comment(&format!(
            "Written by `plinth import terragrunt` from {}: the module Terragrunt ran\nhere, called with the unit's inputs; its outputs are this stack's outputs.",
            self.unit_file
        ));
        file.block(
            Block::new("terraform", Vec::<String>::new())
                .attr("required_version", HclExpr::str(&self.required_version)),
        );
        for name in &self.variables {
            let decl: Option<&VariableDecl> = self.interface.and_then(|i| i.variable(name));
            let mut block = Block::new("variable", [name.clone()]);
            if let Some(t) = decl.and_then(|d| d.type_expr.clone()) {
                block = block.attr("type", HclExpr::raw(t));
            }
            block = block.attr(
                "description",
                HclExpr::str(format!("Input `{name}` of the unit, passed to the module.")),
            );
            if decl.is_some_and(|d| d.sensitive) {
                block = block.attr("sensitive", HclExpr::Literal(true.into()));
            }
            file.block(block);
        }
        let mut module = Block::new("module", [self.module_name.clone()])
            .attr("source", HclExpr::str(&self.source));
        if let Some(v) = &self.version {
            module = module.attr("version", HclExpr::str(v));
        }
        if !self.variables.is_empty() {
            module.body.blank();
        }
        for name in &self.variables {
            let arg = if is_identifier(name) {
                name.clone()
            } else {
                crate::hcl::quote(name)
            };
            module.body.attr(&arg, HclExpr::raw(format!("var.{name}")));
        }
        file.block(module);
        for (name, sensitive) in &self.outputs {
            let mut block = Block::new("output", [name.clone()])
                .attr(
                    "description",
                    HclExpr::str(format!("Output `{name}` of the module.")),
                )
                .attr(
                    "value",
                    HclExpr::raw(format!("module.{}.{name}", self.module_name)),
                );
            if *sensitive {
                block = block.attr("sensitive", HclExpr::Literal(true.into()));
            }
            file.block(block);
        }
        if self.all_outputs {
            file.comment(
                "Every output of the remote module, which plinth cannot read before `init`:",
            );
            file.comment("export the ones other stacks need by name, as above.");
            file.block(
                Block::new("output", [ALL_OUTPUTS])
                    .attr(
                        "description",
                        HclExpr::str("All outputs of the module, as one object."),
                    )
                    .attr(
                        "value",
                        HclExpr::raw(format!("module.{}", self.module_name)),
                    )
                    .attr("sensitive", HclExpr::Literal(true.into())),
            );
        }
        file.to_file()
    }
}

/// A module label from a unit's directory name.
pub(crate) fn module_name(dir_name: &str) -> String {
    let mut name: String = dir_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        name.insert_str(0, "m_");
    }
    name
}

/// A Terragrunt source as Terraform's module `source` and `version`: `tfr://` registry
/// addresses become registry sources; everything else is already go-getter syntax.
pub(crate) fn module_source(source: &str) -> (String, Option<String>) {
    let Some(rest) = source.strip_prefix("tfr://") else {
        return (source.to_string(), None);
    };
    let (address, query) = rest.split_once('?').unwrap_or((rest, ""));
    let version = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("version="))
        .map(str::to_string);
    let address = address.trim_start_matches('/');
    let address = address
        .strip_prefix("registry.terraform.io/")
        .unwrap_or(address);
    (address.to_string(), version)
}

/// Whether a Terragrunt source names a directory on this machine.
pub(crate) fn is_local(source: &str) -> bool {
    let s = source.strip_prefix("file://").unwrap_or(source);
    if s.contains("::") || s.starts_with("tfr:") || s.starts_with("git@") {
        return false;
    }
    let first = s.split('/').next().unwrap_or("");
    !(first.contains('.') && first != "." && first != ".."
        || s.starts_with("http://")
        || s.starts_with("https://"))
}

/// A local source's directory: Terragrunt's `//` separates the copied tree from the module
/// inside it, which for a local path is just a deeper directory.
pub(crate) fn local_path(source: &str) -> String {
    let s = source.strip_prefix("file://").unwrap_or(source);
    let s = s.split('?').next().unwrap_or(s);
    s.replacen("//", "/", 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources() {
        assert_eq!(
            module_source("tfr:///terraform-aws-modules/vpc/aws?version=5.1.0"),
            (
                "terraform-aws-modules/vpc/aws".to_string(),
                Some("5.1.0".to_string())
            )
        );
        assert_eq!(
            module_source("git::https://x/m.git//vpc?ref=v1").0,
            "git::https://x/m.git//vpc?ref=v1"
        );
        assert!(is_local("../../modules//vpc"));
        assert!(is_local("/abs/modules/vpc"));
        assert!(!is_local("git::file:///tmp/m.git//vpc?ref=v1"));
        assert!(!is_local("github.com/acme/modules//vpc?ref=v1"));
        assert!(!is_local("tfr:///a/b/c?version=1"));
        assert_eq!(local_path("../../modules//vpc"), "../../modules/vpc");
        assert_eq!(module_name("backend-app"), "backend-app");
        assert_eq!(module_name("1st app"), "m_1st_app");
    }

    #[test]
    fn wrapper_is_valid_and_formatted() {
        let w = Wrapper {
            unit_file: "live/dev/vpc/terragrunt.hcl",
            module_name: "vpc".into(),
            source: "../../../modules/vpc".into(),
            version: None,
            interface: None,
            variables: vec!["cidr".into(), "name".into()],
            outputs: vec![("vpc_id".into(), false), ("secret".into(), true)],
            all_outputs: true,
            required_version: ">= 1.6".into(),
        };
        let text = w.render();
        assert!(text.contains("module \"vpc\" {\n  source = \"../../../modules/vpc\"\n\n  cidr = var.cidr\n  name = var.name\n}"), "{text}");
        assert!(
            text.contains("  value       = module.vpc.secret\n  sensitive   = true\n"),
            "{text}"
        );
    }
}
