//! `stack.hcl`: a stack's settings, its dependencies and its inputs.

use std::ops::Range;
use std::sync::Arc;

use plinth_diag::{Diagnostic, SourceFile};
use serde_json::{Map, Value};

use crate::blocks::hooks::{self, Hooks};
use crate::body::{Reader, header_span, no_labels, one_label};
use crate::expr::{Expr, Step};
use crate::refs::unknown_ref;
use crate::{ParseResult, Spanned, parse_hcl};

/// File name that marks a directory as a stack.
pub const STACK_FILE: &str = "stack.hcl";

/// The parsed `stack.hcl`.
#[derive(Debug, Clone)]
pub struct StackConfig {
    /// The file's text, for diagnostics.
    pub source: Arc<SourceFile>,
    /// The `stack` block (defaults when absent).
    pub settings: StackSettings,
    /// `dependency` blocks in order.
    pub dependencies: Vec<Dependency>,
    /// The `inputs` map in order.
    pub inputs: Vec<Input>,
    /// The `hooks` block, run in the stack directory.
    pub hooks: Option<Hooks>,
}

/// Settings of the `stack` block.
#[derive(Debug, Clone, Default)]
pub struct StackSettings {
    /// One line about the stack.
    pub description: Option<String>,
    /// Environments this stack has an instance in (`None`: all).
    pub environments: Option<Vec<Spanned<String>>>,
    /// Free-form tags for selection.
    pub tags: Vec<String>,
    /// Stacks that must run first, without data flowing.
    pub after: Vec<Spanned<String>>,
}

/// A `dependency "NAME"` block.
#[derive(Debug, Clone)]
pub struct Dependency {
    /// The block label, used as `dependency.NAME.outputs…`.
    pub name: Spanned<String>,
    /// The upstream stack as written (project-relative id, or `./`/`../` path).
    pub stack: Spanned<String>,
    /// Placeholders used for plans while the upstream has no state.
    pub mock_outputs: Map<String, Value>,
}

/// One entry of `inputs`.
#[derive(Debug, Clone)]
pub struct Input {
    /// The Terraform variable it sets.
    pub name: String,
    /// Its expression.
    pub value: Spanned<Expr>,
}

impl StackConfig {
    /// Parses a `stack.hcl`; `path` is how the file is shown in messages.
    pub fn parse(path: &str, text: &str) -> ParseResult<StackConfig> {
        let (source, body) = parse_hcl(path, text).map_err(|d| vec![*d])?;
        let mut diags = Vec::new();
        let top = Reader::new(
            &body,
            &source,
            "stack.hcl",
            0..0,
            &["inputs"],
            &["stack", "dependency", "hooks"],
            &mut diags,
        );
        let mut settings: Option<StackSettings> = None;
        let mut dependencies: Vec<Dependency> = Vec::new();
        let mut hooks_block: Option<Hooks> = None;
        for block in &top.blocks {
            let span = hcl_edit::Span::span(*block).unwrap_or_else(|| header_span(block));
            match block.ident.value().as_str() {
                "hooks" => {
                    no_labels(block, &source, "hooks", &mut diags);
                    if hooks_block.is_some() {
                        diags.push(
                            Diagnostic::error("stack.hcl declares the `hooks` block twice").at(
                                &source,
                                header_span(block),
                                "second declaration",
                            ),
                        );
                        continue;
                    }
                    hooks_block = Some(hooks::parse(block, &source, span, "stack.hcl", &mut diags));
                }
                "stack" => {
                    no_labels(block, &source, "stack", &mut diags);
                    if settings.is_some() {
                        diags.push(
                            Diagnostic::error("stack.hcl declares the `stack` block twice").at(
                                &source,
                                header_span(block),
                                "second declaration",
                            ),
                        );
                        continue;
                    }
                    settings = Some(parse_settings(block, &source, span, &mut diags));
                }
                _ => {
                    let Some(dep) = parse_dependency(block, &source, span, &mut diags) else {
                        continue;
                    };
                    if let Some(first) =
                        dependencies.iter().find(|d| d.name.value == dep.name.value)
                    {
                        diags.push(
                            Diagnostic::error(format!(
                                "dependency `{}` is declared twice",
                                dep.name.value
                            ))
                            .at(&source, dep.name.span.clone(), "declared again here")
                            .at(
                                &source,
                                first.name.span.clone(),
                                "first declared here",
                            ),
                        );
                        continue;
                    }
                    dependencies.push(dep);
                }
            }
        }
        let inputs = top
            .object("inputs", &mut diags)
            .map(|o| o.value)
            .unwrap_or_default();
        let dep_names: Vec<&str> = dependencies.iter().map(|d| d.name.value.as_str()).collect();
        for (_, value) in &inputs {
            for r in value.value.references() {
                check_input_ref(r, &dep_names, &source, &mut diags);
            }
        }
        if !diags.is_empty() {
            diags.sort_by_key(|d| d.labels.first().map_or(0, |l| l.span.start));
            return Err(diags);
        }
        // Kept for the whole run on tens of thousands of stacks: no spare capacity.
        dependencies.shrink_to_fit();
        Ok(StackConfig {
            source,
            settings: settings.unwrap_or_default(),
            dependencies,
            inputs: inputs
                .into_iter()
                .map(|(name, value)| Input { name, value })
                .collect(),
            hooks: hooks_block,
        })
    }

    /// Drops what only runs read (inputs, mock outputs, hooks, description), after they were
    /// checked: the shape of the graph stays.
    /// `source` replaces the file's text: a deferred copy read again only for a diagnostic.
    pub fn keep_outline(&mut self, source: Arc<SourceFile>) {
        self.source = source;
        self.inputs = Vec::new();
        self.hooks = None;
        self.settings.description = None;
        for dep in &mut self.dependencies {
            dep.mock_outputs = Map::new();
        }
    }

    /// The dependency block called `name`.
    pub fn dependency(&self, name: &str) -> Option<&Dependency> {
        self.dependencies.iter().find(|d| d.name.value == name)
    }
}

fn parse_settings(
    block: &hcl_edit::structure::Block,
    source: &Arc<SourceFile>,
    span: Range<usize>,
    diags: &mut Vec<Diagnostic>,
) -> StackSettings {
    let r = Reader::new(
        &block.body,
        source,
        "the `stack` block",
        span,
        &["description", "environments", "tags", "after"],
        &[],
        diags,
    );
    let environments = r.string_list("environments", diags).map(|l| l.value);
    if let Some(envs) = &environments
        && envs.is_empty()
    {
        diags.push(
            Diagnostic::error("`environments` is empty: this stack would have no instance")
                .at(
                    source,
                    r.attr_span("environments").unwrap_or(0..0),
                    "empty list",
                )
                .with_help("remove the attribute to mean every environment"),
        );
    }
    StackSettings {
        description: r.string("description", diags).map(|s| s.value),
        environments,
        tags: r
            .string_list("tags", diags)
            .map(|l| l.value.into_iter().map(|t| t.value).collect())
            .unwrap_or_default(),
        after: r
            .string_list("after", diags)
            .map(|l| l.value)
            .unwrap_or_default(),
    }
}

fn parse_dependency(
    block: &hcl_edit::structure::Block,
    source: &Arc<SourceFile>,
    span: Range<usize>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Dependency> {
    let name = one_label(block, source, "dependency", diags)?;
    let what = format!("dependency `{}`", name.value);
    let r = Reader::new(
        &block.body,
        source,
        &what,
        span,
        &["stack", "mock_outputs"],
        &[],
        diags,
    );
    let stack = r.string("stack", diags);
    let stack = r.require("stack", stack, diags)?;
    let mock_outputs = r
        .literal_map("mock_outputs", diags)
        .map(|m| m.value)
        .unwrap_or_default();
    Some(Dependency {
        name,
        stack,
        mock_outputs,
    })
}

const PLAIN_REFS: &[&str] = &["env.name", "env.template", "project", "stack.id"];

fn check_input_ref(
    r: &crate::Reference,
    deps: &[&str],
    source: &Arc<SourceFile>,
    diags: &mut Vec<Diagnostic>,
) {
    let written = r.display();
    if r.root.value != "dependency" {
        if !PLAIN_REFS.contains(&written.as_str()) {
            let mut allowed: Vec<String> = PLAIN_REFS.iter().map(|s| s.to_string()).collect();
            allowed.extend(deps.iter().map(|d| format!("dependency.{d}.outputs.NAME")));
            let allowed: Vec<&str> = allowed.iter().map(String::as_str).collect();
            diags.push(unknown_ref(r, &written, &allowed, source, "`inputs`"));
        }
        return;
    }
    let steps: Vec<&Step> = r.steps.iter().map(|s| &s.value).collect();
    let shape_ok = matches!(steps.as_slice(), [Step::Attr(_), Step::Attr(o), Step::Attr(_), ..] if o == "outputs");
    if !shape_ok {
        diags.push(
            Diagnostic::error(format!("`{written}` is not a dependency output"))
                .at(
                    source,
                    r.root.span.start..r.steps.last().map_or(r.root.span.end, |s| s.span.end),
                    "expected dependency.NAME.outputs.OUTPUT",
                )
                .with_help("read an upstream output as `dependency.network.outputs.vpc_id`"),
        );
        return;
    }
    let Step::Attr(dep) = steps[0] else { return };
    if !deps.contains(&dep.as_str()) {
        let span = r.steps[0].span.clone();
        let mut d = Diagnostic::error(format!(
            "`{written}` refers to dependency `{dep}`, which this stack does not declare"
        ))
        .at(source, span, "no `dependency` block with this name");
        d = match crate::did_you_mean(dep, deps.iter().copied()) {
            Some(s) => d.with_help(format!("did you mean `{s}`?")),
            None if deps.is_empty() => d.with_help(format!(
                "declare it: `dependency \"{dep}\" {{ stack = \"…\" }}`"
            )),
            None => d.with_help(format!("declared dependencies: {}", deps.join(", "))),
        };
        diags.push(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
stack {
  description  = "Service"
  environments = ["dev", "prod"]
  tags         = ["service"]
  after        = ["plumbing/dns"]
}

dependency "network" {
  stack        = "plumbing/network"
  mock_outputs = { vpc_id = "vpc-00000000", private_subnet_ids = ["subnet-1"] }
}

inputs = {
  vpc_id     = dependency.network.outputs.vpc_id
  subnet_ids = dependency.network.outputs.private_subnet_ids
  env_name   = env.name
  label      = "${env.name}-${dependency.network.outputs.vpc_id}"
}
"#;

    #[test]
    fn parses_the_design_example() {
        let s = StackConfig::parse("svc/stack.hcl", GOOD).unwrap();
        assert_eq!(s.settings.environments.as_ref().unwrap().len(), 2);
        assert_eq!(s.settings.after[0].value, "plumbing/dns");
        assert_eq!(s.dependencies[0].stack.value, "plumbing/network");
        assert_eq!(s.dependencies[0].mock_outputs["vpc_id"], "vpc-00000000");
        let names: Vec<&str> = s.inputs.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["vpc_id", "subnet_ids", "env_name", "label"]);
    }

    fn errors(text: &str) -> Vec<String> {
        StackConfig::parse("s/stack.hcl", text)
            .unwrap_err()
            .iter()
            .map(|d| format!("{} {}", d.one_line(), d.help.join(" ")))
            .collect()
    }

    #[test]
    fn reference_to_undeclared_dependency_is_an_error_with_position() {
        let errs = errors(
            "dependency \"network\" {\n  stack = \"n\"\n}\ninputs = {\n  a = dependency.netwrk.outputs.x\n}\n",
        );
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0].starts_with(
                "s/stack.hcl:5:18: `dependency.netwrk.outputs.x` refers to dependency `netwrk`"
            ),
            "{errs:?}"
        );
    }

    #[test]
    fn unknown_block_and_missing_stack_attribute() {
        let errs = errors("stak {}\ndependency \"a\" {}\n");
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(
            errs[0].starts_with("s/stack.hcl:1:1: unknown block `stak`"),
            "{errs:?}"
        );
        assert!(errs[1].contains("needs the attribute `stack`"), "{errs:?}");
    }

    #[test]
    fn wrong_types_are_reported() {
        let errs = errors("stack {\n  tags = \"a\"\n  environments = [1]\n}\n");
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(
            errs[0].contains("`tags` in the `stack` block must be a list of strings"),
            "{errs:?}"
        );
    }

    #[test]
    fn env_reference_typo_is_reported() {
        let errs = errors("inputs = {\n  e = env.nme\n}\n");
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].contains("did you mean `env.name`"), "{errs:?}");
    }
}
