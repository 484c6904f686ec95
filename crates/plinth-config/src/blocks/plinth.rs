//! The `plinth` block: project name, engine, parallelism, var file patterns.

use std::ops::Range;
use std::sync::Arc;

use plinth_diag::{Diagnostic, SourceFile};

use crate::Spanned;
use crate::body::Reader;
use crate::expr::{Expr, Part, Reference, Step};
use crate::names::valid_name;
use crate::refs::check_refs;

/// Settings of the `plinth` block.
#[derive(Debug, Clone)]
pub struct PlinthSettings {
    /// Project name (defaults to the root directory's name).
    pub project: String,
    /// `terraform`, `tofu` or a path to the binary.
    pub engine: Spanned<String>,
    /// Version constraint checked before any run, e.g. `>= 1.6`.
    pub engine_version: Option<Spanned<String>>,
    /// Default parallelism of runs.
    pub parallelism: Option<usize>,
    /// Var file patterns relative to each stack (templates over `env.name`); the default is
    /// `["env/${env.name}.tfvars", "${env.name}.tfvars"]`, `var_files = []` turns it off.
    pub var_files: Vec<Spanned<Expr>>,
}

impl PlinthSettings {
    /// The settings of a `plinth.hcl` without a `plinth` block.
    pub(crate) fn defaults(default_project: &str) -> PlinthSettings {
        PlinthSettings {
            project: default_project.to_string(),
            engine: Spanned::new("terraform".into(), 0..0),
            engine_version: None,
            parallelism: None,
            var_files: default_var_files(),
        }
    }
}

/// `["env/${env.name}.tfvars", "${env.name}.tfvars"]`: the seeds' two conventions.
fn default_var_files() -> Vec<Spanned<Expr>> {
    let env_name = || {
        Part::Interp(Spanned::new(
            Expr::Ref(Reference {
                root: Spanned::new("env".into(), 0..0),
                steps: vec![Spanned::new(Step::Attr("name".into()), 0..0)],
            }),
            0..0,
        ))
    };
    vec![
        Spanned::new(
            Expr::Template(vec![
                Part::Text("env/".into()),
                env_name(),
                Part::Text(".tfvars".into()),
            ]),
            0..0,
        ),
        Spanned::new(
            Expr::Template(vec![env_name(), Part::Text(".tfvars".into())]),
            0..0,
        ),
    ]
}

pub(crate) fn parse(
    block: &hcl_edit::structure::Block,
    source: &Arc<SourceFile>,
    span: Range<usize>,
    default_project: &str,
    diags: &mut Vec<Diagnostic>,
) -> PlinthSettings {
    let r = Reader::new(
        &block.body,
        source,
        "the `plinth` block",
        span,
        &[
            "project",
            "engine",
            "engine_version",
            "parallelism",
            "var_files",
        ],
        &[],
        diags,
    );
    let project = r.string("project", diags);
    if let Some(p) = &project
        && !valid_name(&p.value)
    {
        diags.push(
            Diagnostic::error(format!("project name `{}` is not a valid name", p.value)).at(
                source,
                p.span.clone(),
                "use letters, digits, `-`, `_` and `.`",
            ),
        );
    }
    let engine = r
        .string("engine", diags)
        .unwrap_or_else(|| Spanned::new("terraform".into(), 0..0));
    if engine.value.trim().is_empty() {
        diags.push(Diagnostic::error("`engine` is empty").at(
            source,
            engine.span.clone(),
            "name `terraform`, `tofu` or a path",
        ));
    }
    let parallelism = r.count("parallelism", diags).and_then(|p| {
        if p.value == 0 {
            diags.push(Diagnostic::error("`parallelism` must be at least 1").at(
                source,
                p.span,
                "0 would run nothing",
            ));
            None
        } else {
            Some(p.value as usize)
        }
    });
    let var_files = if r.has("var_files") {
        r.template_list("var_files", diags).unwrap_or_default()
    } else {
        default_var_files()
    };
    for vf in &var_files {
        check_refs(&vf.value, super::ENV_REFS, source, "`var_files`", diags);
    }
    PlinthSettings {
        project: project.map_or_else(|| default_project.to_string(), |p| p.value),
        engine,
        engine_version: r.string("engine_version", diags),
        parallelism,
        var_files,
    }
}
