//! The project file: found, and parsed by plinth's own parser.

use super::{Doctor, Finding};

/// `plinth.hcl` is there and parses.
pub(super) fn check(d: &Doctor) -> Vec<Finding> {
    let what = "project";
    let finding = match (&d.root, &d.config, &d.config_error) {
        (None, _, _) => Finding::fail(
            what,
            format!(
                "no plinth.hcl in {} or any parent directory",
                d.ctx.cwd.display()
            ),
            "run `plinth init` here (or pass -C DIR)",
        ),
        (Some(_), _, Some(error)) => Finding::fail(
            what,
            error.clone(),
            "correct plinth.hcl (`plinth check --no-engine` shows every error)",
        ),
        (Some(root), Some(config), None) => match plinth_project::Project::load(root) {
            Ok(p) => Finding::ok(
                what,
                format!(
                    "{} at {}: {} stack(s), environments {}",
                    config.project(),
                    root.display(),
                    p.stacks.len(),
                    config.environment_names().collect::<Vec<_>>().join(", ")
                ),
            ),
            Err(diags) => Finding::fail(
                what,
                diags
                    .first()
                    .map_or_else(|| "the project does not load".into(), |x| x.one_line()),
                "correct the stack.hcl files (`plinth check --no-engine` shows every error)",
            ),
        },
        (Some(_), None, None) => {
            Finding::fail(what, "plinth.hcl cannot be read", "check its permissions")
        }
    };
    vec![finding]
}
