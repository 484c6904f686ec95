//! `plinth init` in an empty directory: a small project in one of the three layouts of
//! DESIGN.md §2.2, made of `terraform_data` stand-ins so that it checks and applies at once,
//! offline, before any real resource replaces them.

use crate::hcl::HclExpr;
use crate::project_file::{EnvSpec, ProjectSpec};
use crate::proposal::Proposal;
use crate::stack_file::{DependencySpec, StackSpec};

/// The repository layouts `plinth init` scaffolds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Modules under `components/`, one composition per environment under `envs/<env>`.
    Components,
    /// One stack per module on a foundation stack, wired by outputs.
    Modules,
    /// One root module with a var file per environment.
    Single,
}

/// What to scaffold.
#[derive(Debug, Clone)]
pub struct ScaffoldOptions {
    /// Project name.
    pub project: String,
    /// Layout.
    pub layout: Layout,
    /// Environments, in promotion order.
    pub environments: Vec<String>,
    /// `terraform` or `tofu`.
    pub engine: String,
}

const ENGINE_VERSION: &str = ">= 1.6";

const TERRAFORM_BLOCK: &str = "terraform {\n  required_version = \">= 1.6\"\n}\n";

const ENV_NAME_VAR: &str = "variable \"env_name\" {\n  type        = string\n  description = \"The environment this instance belongs to.\"\n}\n";

const NETWORK_TF: &str = "resource \"terraform_data\" \"vpc\" {\n  input = \"vpc-${var.env_name}\"\n}\n\noutput \"vpc_id\" {\n  description = \"The network's id (a stand-in until a real VPC replaces terraform_data).\"\n  value       = terraform_data.vpc.output\n}\n";

const APP_TF: &str = "variable \"vpc_id\" {\n  type        = string\n  description = \"The network to run in, from the network stack.\"\n}\n\nvariable \"size\" {\n  type        = string\n  description = \"Instance size; set per environment in the var files.\"\n  default     = \"small\"\n}\n\nresource \"terraform_data\" \"app\" {\n  input = \"app-${var.env_name}-${var.size} in ${var.vpc_id}\"\n}\n\noutput \"endpoint\" {\n  description = \"Where the app answers (a stand-in value).\"\n  value       = terraform_data.app.output\n}\n";

/// The files of a new project.
pub fn scaffold(options: &ScaffoldOptions) -> Proposal {
    let mut p = Proposal::default();
    let envs = &options.environments;
    let spec = ProjectSpec {
        header: vec![
            "plinth project file: engine, state and environments (DESIGN.md §2.1).".into(),
        ],
        project: options.project.clone(),
        engine: Some(options.engine.clone()),
        engine_version: Some(ENGINE_VERSION.into()),
        var_files: None,
        state: None,
        environments: envs
            .iter()
            .enumerate()
            .map(|(i, name)| EnvSpec {
                name: name.clone(),
                promote_from: i.checked_sub(1).map(|j| envs[j].clone()),
                protected: is_production(name),
                ..EnvSpec::default()
            })
            .collect(),
    };
    p.file(
        "plinth.hcl",
        spec.render(),
        "project: engine and environments",
    );
    match options.layout {
        Layout::Modules => modules_layout(&mut p, envs),
        Layout::Components => components_layout(&mut p, envs),
        Layout::Single => single_layout(&mut p, envs),
    }
    p.environments = envs.clone();
    p
}

/// Names teams give their production environment; those are protected (destroy refused).
pub(crate) fn is_production(name: &str) -> bool {
    matches!(name, "prod" | "production" | "prd" | "live")
}

fn modules_layout(p: &mut Proposal, envs: &[String]) {
    stack(
        p,
        "infra/network",
        "The foundation: the shared network every other stack builds on.",
        format!("{TERRAFORM_BLOCK}\n{ENV_NAME_VAR}\n{NETWORK_TF}"),
        StackSpec {
            description: Some("Shared network (foundation)".into()),
            tags: vec!["foundation".into()],
            inputs: vec![("env_name".into(), HclExpr::raw("env.name"))],
            ..StackSpec::default()
        },
    );
    stack(
        p,
        "infra/app",
        "An application stack on the network: it receives the network's `vpc_id` as an input.",
        format!("{TERRAFORM_BLOCK}\n{ENV_NAME_VAR}\n{APP_TF}"),
        StackSpec {
            description: Some("Application on the shared network".into()),
            dependencies: vec![network_dependency("infra/network")],
            inputs: vec![
                ("env_name".into(), HclExpr::raw("env.name")),
                (
                    "vpc_id".into(),
                    HclExpr::raw("dependency.network.outputs.vpc_id"),
                ),
            ],
            ..StackSpec::default()
        },
    );
    env_var_files(p, "infra/app", envs);
}

fn components_layout(p: &mut Proposal, envs: &[String]) {
    p.file(
        "components/network/main.tf",
        format!("{ENV_NAME_VAR}\n{NETWORK_TF}"),
        "module: the network",
    );
    p.file(
        "components/app/main.tf",
        format!("{ENV_NAME_VAR}\n{APP_TF}"),
        "module: the application",
    );
    for env in envs {
        let size = if is_production(env) { "large" } else { "small" };
        let code = format!(
            "{TERRAFORM_BLOCK}\n{ENV_NAME_VAR}\nmodule \"network\" {{\n  source   = \"../../components/network\"\n  env_name = var.env_name\n}}\n\nmodule \"app\" {{\n  source   = \"../../components/app\"\n  env_name = var.env_name\n  vpc_id   = module.network.vpc_id\n  size     = \"{size}\"\n}}\n\noutput \"endpoint\" {{\n  description = \"Where the app answers.\"\n  value       = module.app.endpoint\n}}\n"
        );
        stack(
            p,
            &format!("envs/{env}"),
            &format!(
                "The {env} environment: composes the modules of `components/` for {env} only."
            ),
            code,
            StackSpec {
                description: Some(format!("Everything in {env}")),
                environments: Some(vec![env.clone()]),
                inputs: vec![("env_name".into(), HclExpr::raw("env.name"))],
                ..StackSpec::default()
            },
        );
    }
}

fn single_layout(p: &mut Proposal, envs: &[String]) {
    stack(
        p,
        "app",
        "One root module for the whole service; what differs per environment is in `env/<env>.tfvars`.",
        format!(
            "{TERRAFORM_BLOCK}\n{ENV_NAME_VAR}\nvariable \"size\" {{\n  type        = string\n  description = \"Instance size; set per environment in env/<env>.tfvars.\"\n}}\n\nresource \"terraform_data\" \"app\" {{\n  input = \"app-${{var.env_name}}-${{var.size}}\"\n}}\n\noutput \"endpoint\" {{\n  description = \"Where the app answers (a stand-in value).\"\n  value       = terraform_data.app.output\n}}\n"
        ),
        StackSpec {
            description: Some("The service, one instance per environment".into()),
            inputs: vec![("env_name".into(), HclExpr::raw("env.name"))],
            ..StackSpec::default()
        },
    );
    env_var_files(p, "app", envs);
}

fn network_dependency(stack: &str) -> DependencySpec {
    let mut mocks = serde_json::Map::new();
    mocks.insert("vpc_id".into(), "vpc-00000000".into());
    DependencySpec {
        name: "network".into(),
        stack: stack.into(),
        mock_outputs: mocks,
    }
}

fn env_var_files(p: &mut Proposal, dir: &str, envs: &[String]) {
    for env in envs {
        let size = if is_production(env) { "large" } else { "small" };
        p.file(
            format!("{dir}/env/{env}.tfvars"),
            format!("size = \"{size}\"\n"),
            format!("variables of {env}"),
        );
    }
}

fn stack(p: &mut Proposal, dir: &str, readme: &str, code: String, spec: StackSpec) {
    p.file(format!("{dir}/stack.hcl"), spec.render(), "stack settings");
    p.file(
        format!("{dir}/main.tf"),
        code,
        "Terraform code (terraform_data stand-ins)",
    );
    p.file(
        format!("{dir}/README.md"),
        format!("# {dir}\n\n{readme}\n\nThe resources are `terraform_data` stand-ins: replace them with real ones.\n"),
        "what the stack is for",
    );
    p.stacks.push(dir.to_string());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_layout_parses_with_plinths_own_parser() {
        for layout in [Layout::Components, Layout::Modules, Layout::Single] {
            let p = scaffold(&ScaffoldOptions {
                project: "shop".into(),
                layout,
                environments: vec!["dev".into(), "staging".into(), "prod".into()],
                engine: "terraform".into(),
            });
            assert_eq!(p.validate(), Vec::<String>::new(), "{layout:?}");
            assert!(!p.stacks.is_empty());
        }
    }
}
