//! Writing `plinth.hcl` (DESIGN.md §2.1) from what a conversion found.

use crate::hcl::{Block, Body, HclExpr};

/// The settings of a `plinth.hcl` to write.
#[derive(Debug, Clone, Default)]
pub struct ProjectSpec {
    /// Comment lines at the top of the file.
    pub header: Vec<String>,
    /// Project name.
    pub project: String,
    /// `engine`, when not the default `terraform`.
    pub engine: Option<String>,
    /// `engine_version`.
    pub engine_version: Option<String>,
    /// `var_files` patterns, when not the default.
    pub var_files: Option<Vec<String>>,
    /// The `state` block, when not the default local backend.
    pub state: Option<StateSpec>,
    /// Environments in order.
    pub environments: Vec<EnvSpec>,
}

/// A `state` block.
#[derive(Debug, Clone, Default)]
pub struct StateSpec {
    /// Backend name.
    pub backend: String,
    /// The `key` template as HCL string text, `${…}` included (`"${stack.id}/terraform.tfstate"`).
    pub key: Option<String>,
    /// `config` settings.
    pub config: Vec<(String, HclExpr)>,
}

/// An `environment` block.
#[derive(Debug, Clone, Default)]
pub struct EnvSpec {
    /// Its name.
    pub name: String,
    /// Comment lines above the block.
    pub comments: Vec<String>,
    /// `promote_from`.
    pub promote_from: Option<String>,
    /// `protected = true`.
    pub protected: bool,
    /// `approvals`.
    pub approvals: u64,
    /// `vars`.
    pub vars: Vec<(String, HclExpr)>,
    /// `endpoints` (provider, URL).
    pub endpoints: Vec<(String, String)>,
    /// `pull_request { autoplan, apply }`.
    pub pull_request: Option<PullRequestSpec>,
}

/// A `pull_request` block.
#[derive(Debug, Clone, Default)]
pub struct PullRequestSpec {
    /// `autoplan`.
    pub autoplan: bool,
    /// `apply` (`comment` or `merge`), when not the default.
    pub apply: Option<String>,
}

impl ProjectSpec {
    /// The file's text, formatted like `terraform fmt`.
    pub fn render(&self) -> String {
        let mut file = Body::new();
        for line in &self.header {
            file.comment(line);
        }
        let mut plinth =
            Block::new("plinth", Vec::<String>::new()).attr("project", HclExpr::str(&self.project));
        if let Some(engine) = &self.engine {
            plinth = plinth.attr("engine", HclExpr::str(engine));
        }
        if let Some(v) = &self.engine_version {
            plinth = plinth.attr("engine_version", HclExpr::str(v));
        }
        if let Some(patterns) = &self.var_files {
            plinth = plinth.attr(
                "var_files",
                HclExpr::List(patterns.iter().map(|p| HclExpr::raw(p.clone())).collect()),
            );
        }
        file.block(plinth);
        if let Some(state) = &self.state {
            let mut block = Block::new("state", Vec::<String>::new())
                .attr("backend", HclExpr::str(&state.backend));
            if let Some(key) = &state.key {
                block = block.attr("key", HclExpr::raw(key.clone()));
            }
            if !state.config.is_empty() {
                block = block.attr("config", HclExpr::Object(state.config.clone()));
            }
            file.block(block);
        }
        for env in &self.environments {
            for line in &env.comments {
                file.comment(line);
            }
            let mut block = Block::new("environment", [env.name.clone()])
                .attr("lifecycle", HclExpr::str("persistent"));
            if let Some(from) = &env.promote_from {
                block = block.attr("promote_from", HclExpr::str(from));
            }
            if env.protected {
                block = block.attr("protected", HclExpr::Literal(true.into()));
            }
            if env.approvals > 0 {
                block = block.attr("approvals", HclExpr::Literal(env.approvals.into()));
            }
            if !env.vars.is_empty() {
                block = block.attr("vars", HclExpr::Object(env.vars.clone()));
            }
            if !env.endpoints.is_empty() {
                block = block.attr(
                    "endpoints",
                    HclExpr::Object(
                        env.endpoints
                            .iter()
                            .map(|(p, u)| (p.clone(), HclExpr::str(u)))
                            .collect(),
                    ),
                );
            }
            if let Some(pr) = &env.pull_request {
                let mut inner = Block::new("pull_request", Vec::<String>::new())
                    .attr("autoplan", HclExpr::Literal(pr.autoplan.into()));
                if let Some(apply) = &pr.apply {
                    inner = inner.attr("apply", HclExpr::str(apply));
                }
                block.body.blank();
                block.body.block(inner);
            }
            file.block(block);
        }
        file.to_file()
    }
}

/// A `var_files` pattern for files named after the environment under `dir` (`""`: the stack
/// directory itself), as HCL string text.
pub fn var_file_pattern(dir: &str) -> String {
    if dir.is_empty() {
        "\"${env.name}.tfvars\"".to_string()
    } else {
        format!(
            "\"{}/${{env.name}}.tfvars\"",
            crate::hcl::escape_template_text(dir)
        )
    }
}

/// A name plinth accepts for a project or environment, made from `raw` (a directory name).
pub fn sanitize_name(raw: &str) -> String {
    let name: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let name = name.trim_matches(|c| c == '-' || c == '.').to_string();
    if name.is_empty() {
        "project".to_string()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_project_file_parses() {
        let spec = ProjectSpec {
            header: vec!["Written by a test.".into()],
            project: "shop".into(),
            engine_version: Some(">= 1.6".into()),
            var_files: Some(vec![var_file_pattern("vars"), var_file_pattern("")]),
            state: Some(StateSpec {
                backend: "s3".into(),
                key: Some("\"${stack.id}/terraform.tfstate\"".into()),
                config: vec![("bucket".into(), HclExpr::str("b"))],
            }),
            environments: vec![
                EnvSpec {
                    name: "dev".into(),
                    endpoints: vec![("aws".into(), "http://localhost:4566".into())],
                    pull_request: Some(PullRequestSpec {
                        autoplan: false,
                        apply: None,
                    }),
                    ..EnvSpec::default()
                },
                EnvSpec {
                    name: "prod".into(),
                    promote_from: Some("dev".into()),
                    protected: true,
                    approvals: 1,
                    ..EnvSpec::default()
                },
            ],
            ..ProjectSpec::default()
        };
        let text = spec.render();
        let cfg = plinth_config::ProjectConfig::parse("plinth.hcl", &text, "x").unwrap();
        assert_eq!(cfg.project(), "shop");
        assert_eq!(cfg.environments.len(), 2);
        assert_eq!(cfg.plinth.var_files.len(), 2);
        assert!(cfg.environment("prod").unwrap().protected);
        assert!(
            text.contains("  lifecycle    = \"persistent\"\n  promote_from = \"dev\""),
            "{text}"
        );
        assert_eq!(sanitize_name("My Repo!"), "My-Repo");
    }
}
