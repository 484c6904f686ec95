//! `plinth output`: every stack's outputs for an environment.

use std::io::Write;
use std::sync::Arc;

use plinth_run::{REDACTED, outputs_json as visible};
use serde_json::{Map, Value};

use crate::context::Context;
use crate::exit::{CmdResult, Exit, Failure};
use crate::runner;
use crate::select::SelectArgs;

/// Output formats.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// `{STACK: {OUTPUT: value}}`.
    Json,
    /// `STACK_OUTPUT=value` lines for shells and CI.
    Dotenv,
    /// `stack_output = value` lines a Terraform root module can read.
    Tfvars,
    /// The environment mapping table that downstream services consume.
    Markdown,
}

/// Arguments of `plinth output`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The environment.
    env: String,
    #[command(flatten)]
    select: SelectArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
    /// Print sensitive values instead of redacting them.
    #[arg(long)]
    reveal: bool,
}

/// Runs `plinth output`.
pub fn run(ctx: &Context, args: Args) -> CmdResult {
    let project = Arc::new(crate::project::load(ctx)?);
    let name = project.config.project().to_string();
    let rt = runner::runtime()?;
    let template = rt
        .block_on(plinth_run::copy_template(&project, &args.env))
        .map_err(|e| runner::run_failure(ctx, e))?;
    let outputs = rt
        .block_on(plinth_run::env_outputs(
            project,
            &args.env,
            template.as_deref(),
            args.select.selection(),
        ))
        .map_err(|e| runner::run_failure(ctx, e))?;
    let values = visible(&outputs, args.reveal);
    let text = match args.format {
        Format::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&values).expect("JSON values serialise")
        ),
        Format::Dotenv => dotenv(&values),
        Format::Tfvars => tfvars(&values),
        Format::Markdown => markdown(&name, &args.env, &values),
    };
    std::io::stdout()
        .write_all(text.as_bytes())
        .map_err(|e| Failure::failure(format!("cannot write to stdout: {e}")))?;
    Ok(Exit::Success)
}

/// `infra/plumbing/network` + `vpc_id` → `INFRA_PLUMBING_NETWORK_VPC_ID`.
fn variable_name(stack: &str, output: &str, upper: bool) -> String {
    let raw = format!("{stack}_{output}");
    let name: String = raw
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if upper {
        name.to_ascii_uppercase()
    } else {
        name.to_ascii_lowercase()
    }
}

fn flat(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn dotenv(values: &Map<String, Value>) -> String {
    let mut out = String::new();
    for (stack, outs) in values {
        for (k, v) in outs.as_object().into_iter().flatten() {
            // Double-quoted with escapes: safe for `source`, docker --env-file and dotenv parsers.
            let escaped = flat(v)
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n")
                .replace('$', "\\$");
            out.push_str(&format!(
                "{}=\"{escaped}\"\n",
                variable_name(stack, k, true)
            ));
        }
    }
    out
}

fn tfvars(values: &Map<String, Value>) -> String {
    let mut out = String::new();
    for (stack, outs) in values {
        for (k, v) in outs.as_object().into_iter().flatten() {
            // JSON values are valid HCL expressions.
            out.push_str(&format!("{} = {}\n", variable_name(stack, k, false), v));
        }
    }
    out
}

fn markdown(project: &str, env: &str, values: &Map<String, Value>) -> String {
    let mut out =
        format!("## {project}: `{env}` environment\n\n| Stack | Output | Value |\n|---|---|---|\n");
    for (stack, outs) in values {
        for (k, v) in outs.as_object().into_iter().flatten() {
            let cell = if v.as_str() == Some(REDACTED) {
                "_(sensitive)_".to_string()
            } else {
                format!("`{}`", flat(v).replace('|', "\\|").replace('`', "'"))
            };
            out.push_str(&format!("| {stack} | {k} | {cell} |\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use plinth_engine::OutputValue;
    use plinth_run::StackOutputs;
    use serde_json::json;

    fn sample() -> StackOutputs {
        let mut outs = std::collections::BTreeMap::new();
        outs.insert(
            "vpc_id".to_string(),
            OutputValue {
                value: json!("vpc-0abc"),
                sensitive: false,
            },
        );
        outs.insert(
            "db_password".to_string(),
            OutputValue {
                value: json!("hunter2"),
                sensitive: true,
            },
        );
        outs.insert(
            "subnets".to_string(),
            OutputValue {
                value: json!(["a", "b"]),
                sensitive: false,
            },
        );
        StackOutputs::from([("infra/network".to_string(), outs)])
    }

    #[test]
    fn sensitive_values_are_redacted_unless_revealed() {
        let hidden = visible(&sample(), false);
        assert_eq!(hidden["infra/network"]["db_password"], json!(REDACTED));
        assert_eq!(
            visible(&sample(), true)["infra/network"]["db_password"],
            json!("hunter2")
        );
        let env = dotenv(&hidden);
        assert!(env.contains("INFRA_NETWORK_VPC_ID=\"vpc-0abc\"\n"), "{env}");
        assert!(
            env.contains("INFRA_NETWORK_SUBNETS=\"[\\\"a\\\",\\\"b\\\"]\"\n"),
            "{env}"
        );
        assert!(!env.contains("hunter2"));
        let tf = tfvars(&hidden);
        assert!(
            tf.contains("infra_network_subnets = [\"a\",\"b\"]\n"),
            "{tf}"
        );
        let md = markdown("atropos", "dev", &hidden);
        assert!(
            md.contains("| infra/network | vpc_id | `vpc-0abc` |"),
            "{md}"
        );
        assert!(
            md.contains("| infra/network | db_password | _(sensitive)_ |"),
            "{md}"
        );
    }
}
