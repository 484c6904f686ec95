//! Writing `stack.hcl` (DESIGN.md §2.2) from what a conversion found.

use serde_json::{Map, Value};

use crate::hcl::{Block, Body, HclExpr};

/// The contents of a `stack.hcl` to write.
#[derive(Debug, Clone, Default)]
pub struct StackSpec {
    /// Comment lines at the top of the file.
    pub header: Vec<String>,
    /// `description`.
    pub description: Option<String>,
    /// `environments` (`None`: every environment).
    pub environments: Option<Vec<String>>,
    /// `tags`.
    pub tags: Vec<String>,
    /// `after`: stack ids that run first, without data.
    pub after: Vec<String>,
    /// `dependency` blocks.
    pub dependencies: Vec<DependencySpec>,
    /// `inputs`, in order.
    pub inputs: Vec<(String, HclExpr)>,
}

/// A `dependency` block.
#[derive(Debug, Clone, Default)]
pub struct DependencySpec {
    /// The block label.
    pub name: String,
    /// The upstream stack id.
    pub stack: String,
    /// `mock_outputs`.
    pub mock_outputs: Map<String, Value>,
}

impl StackSpec {
    /// The file's text, formatted like `terraform fmt`.
    pub fn render(&self) -> String {
        let mut file = Body::new();
        for line in &self.header {
            file.comment(line);
        }
        let mut stack = Block::new("stack", Vec::<String>::new());
        if let Some(d) = &self.description {
            stack = stack.attr("description", HclExpr::str(d));
        }
        if let Some(envs) = &self.environments {
            stack = stack.attr("environments", HclExpr::strings(envs));
        }
        if !self.tags.is_empty() {
            stack = stack.attr("tags", HclExpr::strings(&self.tags));
        }
        if !self.after.is_empty() {
            stack = stack.attr("after", HclExpr::strings(&self.after));
        }
        if !stack.body.is_empty() {
            file.block(stack);
        }
        for dep in &self.dependencies {
            let mut block = Block::new("dependency", [dep.name.clone()])
                .attr("stack", HclExpr::str(&dep.stack));
            if !dep.mock_outputs.is_empty() {
                block = block.attr(
                    "mock_outputs",
                    HclExpr::from(&Value::Object(dep.mock_outputs.clone())),
                );
            }
            file.block(block);
        }
        if !self.inputs.is_empty() {
            if !file.is_empty() {
                file.blank();
            }
            file.attr("inputs", HclExpr::Object(self.inputs.clone()));
        }
        if self.after.is_empty()
            && self.dependencies.is_empty()
            && self.inputs.is_empty()
            && self.description.is_none()
            && self.environments.is_none()
            && self.tags.is_empty()
        {
            // Comments alone would leave the file looking empty: say what it is.
            file.block(Block::new("stack", Vec::<String>::new()));
        }
        file.to_file()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rendered_stack_file_parses() {
        let spec = StackSpec {
            header: vec!["Converted from terragrunt.hcl.".into()],
            description: Some("VPC".into()),
            environments: Some(vec!["dev".into()]),
            after: vec!["live/dev/dns".into()],
            dependencies: vec![DependencySpec {
                name: "vpc".into(),
                stack: "live/dev/vpc".into(),
                mock_outputs: json!({"vpc_id": "vpc-mock", "ids": ["a"]})
                    .as_object()
                    .unwrap()
                    .clone(),
            }],
            inputs: vec![
                (
                    "vpc_id".into(),
                    HclExpr::raw("dependency.vpc.outputs.vpc_id"),
                ),
                ("env".into(), HclExpr::raw("env.name")),
            ],
            ..StackSpec::default()
        };
        let text = spec.render();
        let cfg = plinth_config::StackConfig::parse("s/stack.hcl", &text).unwrap();
        assert_eq!(cfg.dependencies[0].mock_outputs["ids"], json!(["a"]));
        assert_eq!(cfg.inputs.len(), 2);
        assert_eq!(StackSpec::default().render(), "stack {}\n");
    }
}
