//! Loading a project: `plinth.hcl`, every `stack.hcl`, and cross-file validation.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use plinth_config::{PROJECT_FILE, ProjectConfig, STACK_FILE, Spanned, StackConfig, did_you_mean};
use plinth_diag::Diagnostic;

use crate::discovery::visit_stack_dirs;
use crate::stack::Stack;

/// A loaded, validated project.
#[derive(Debug, Clone)]
pub struct Project {
    /// Absolute project root (the directory of `plinth.hcl`).
    pub root: PathBuf,
    /// The parsed `plinth.hcl`.
    pub config: ProjectConfig,
    /// Every stack, sorted by id.
    pub stacks: Vec<Stack>,
    /// Where plinth keeps its work for this project: `.plinth/` under the root, or the
    /// directory [`with_work_dir`](Self::with_work_dir) gave (the server keeps one per pull
    /// request, outside the throw-away worktree).
    pub work_dir: PathBuf,
    index: HashMap<String, usize>,
}

impl Project {
    /// Loads the project rooted at `root`; returns every configuration error found.
    pub fn load(root: &Path) -> Result<Project, Vec<Diagnostic>> {
        Self::load_with(root, false)
    }

    /// Loads the project for commands that read only its shape (`ls`, `graph`): every file is
    /// parsed and checked as by [`load`](Self::load), then each stack keeps only what the
    /// graph needs — not its `inputs`, mock outputs or hooks — so that 50,000 stacks fit in a
    /// few hundred bytes each.
    pub fn load_outline(root: &Path) -> Result<Project, Vec<Diagnostic>> {
        Self::load_with(root, true)
    }

    fn load_with(root: &Path, outline: bool) -> Result<Project, Vec<Diagnostic>> {
        let root = root.canonicalize().map_err(|e| {
            vec![Diagnostic::error(format!(
                "cannot open {}: {e}",
                root.display()
            ))]
        })?;
        let project_file = root.join(PROJECT_FILE);
        let bytes = std::fs::read(&project_file).map_err(|e| {
            vec![Diagnostic::error(format!(
                "cannot read {}: {e}",
                project_file.display()
            ))]
        })?;
        let text = plinth_config::decode_utf8(PROJECT_FILE, &bytes).map_err(|d| vec![*d])?;
        let default_name = root
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("project");
        let config = ProjectConfig::parse(PROJECT_FILE, text, default_name);

        type Parsed = (PathBuf, String, Result<StackConfig, Vec<Diagnostic>>);
        let mut parsed: Vec<Parsed> = visit_stack_dirs(&root, |dir| {
            let id = stack_id(&root, &dir);
            let display = if id == "." {
                STACK_FILE.to_string()
            } else {
                format!("{id}/{STACK_FILE}")
            };
            let file = dir.join(STACK_FILE);
            let mut result = read_stack_file(&file, &display);
            if outline && let Ok(cfg) = &mut result {
                cfg.keep_outline(plinth_diag::SourceFile::deferred(display.clone(), file));
            }
            (dir, id, result)
        });
        parsed.sort_unstable_by(|a, b| a.0.cmp(&b.0));

        let mut diags = Vec::new();
        let config = match config {
            Ok(c) => Some(c),
            Err(d) => {
                diags.extend(d);
                None
            }
        };
        let mut stacks: Vec<Stack> = Vec::with_capacity(parsed.len());
        // Stacks whose stack.hcl has errors still exist: their dependents are not reported
        // as depending on something missing.
        let mut broken: HashMap<String, PathBuf> = HashMap::new();
        let mut seen: HashMap<String, PathBuf> = HashMap::with_capacity(parsed.len());
        for (dir, id, result) in parsed {
            if let Some(first) = seen.insert(id.clone(), dir.clone()) {
                diags.push(
                    Diagnostic::error(format!(
                        "two stack directories have the id `{id}`: {:?} and {:?}",
                        first.strip_prefix(&root).unwrap_or(&first),
                        dir.strip_prefix(&root).unwrap_or(&dir)
                    ))
                    .with_help(
                        "their names differ only in bytes that are not UTF-8; rename one so \
                         that every stack has a distinct UTF-8 path",
                    ),
                );
                continue;
            }
            match result {
                Ok(cfg) => stacks.push(Stack {
                    id,
                    dir,
                    config: cfg,
                    dependencies: Vec::new(),
                    after: Vec::new(),
                }),
                Err(d) => {
                    diags.extend(d);
                    broken.insert(id, dir);
                }
            }
        }
        let Some(config) = config else {
            return Err(diags);
        };
        let index: HashMap<String, usize> = stacks
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i))
            .collect();
        let env_names: Vec<&str> = config.environment_names().collect();
        let ids: Vec<&str> = stacks.iter().map(|s| s.id.as_str()).collect();
        let mut resolved = Vec::with_capacity(stacks.len());
        for stack in &stacks {
            let cfg = &stack.config;
            for env in cfg.settings.environments.iter().flatten() {
                if !env_names.contains(&env.value.as_str()) {
                    let mut d = Diagnostic::error(format!(
                        "stack `{}` lists unknown environment `{}`",
                        stack.id, env.value
                    ))
                    .at(
                        &cfg.source,
                        env.span.clone(),
                        "not declared in plinth.hcl",
                    );
                    d = match did_you_mean(&env.value, env_names.iter().copied()) {
                        Some(s) => d.with_help(format!("did you mean `{s}`?")),
                        None => d.with_help(format!("environments: {}", env_names.join(", "))),
                    };
                    diags.push(d);
                }
            }
            let mut resolve = |written: &Spanned<String>, what: &str| -> Option<String> {
                let id = match resolve_ref(&stack.id, &written.value) {
                    Ok(id) => id,
                    Err(msg) => {
                        diags.push(Diagnostic::error(msg).at(
                            &cfg.source,
                            written.span.clone(),
                            "cannot resolve",
                        ));
                        return None;
                    }
                };
                if id == stack.id {
                    diags.push(
                        Diagnostic::error(format!("stack `{}` depends on itself", stack.id)).at(
                            &cfg.source,
                            written.span.clone(),
                            format!("this {what} names the stack itself"),
                        ),
                    );
                    return None;
                }
                if broken.contains_key(&id) {
                    // Its own errors are reported; this reference is fine.
                    return None;
                }
                if !index.contains_key(&id) {
                    let mut d = Diagnostic::error(format!(
                        "stack `{}` depends on `{id}`, which does not exist",
                        stack.id
                    ))
                    .at(
                        &cfg.source,
                        written.span.clone(),
                        format!("no stack.hcl at `{id}`"),
                    );
                    d = match did_you_mean(&id, ids.iter().copied()) {
                        Some(s) => d.with_help(format!("did you mean `{s}`?")),
                        None => d.with_help("a stack is a directory holding stack.hcl; ids are paths relative to the project root"),
                    };
                    diags.push(d);
                    return None;
                }
                Some(id)
            };
            let deps: Vec<(String, String)> = cfg
                .dependencies
                .iter()
                .filter_map(|d| {
                    resolve(&d.stack, "dependency").map(|id| (d.name.value.clone(), id))
                })
                .collect();
            let after: Vec<String> = cfg
                .settings
                .after
                .iter()
                .filter_map(|a| resolve(a, "`after` entry"))
                .collect();
            resolved.push((deps, after));
        }
        for (stack, (deps, after)) in stacks.iter_mut().zip(resolved) {
            stack.dependencies = deps;
            stack.after = after;
        }
        if !diags.is_empty() {
            diags.sort_by(|a, b| {
                let key = |d: &Diagnostic| {
                    d.labels
                        .first()
                        .map(|l| (l.source.display_path().to_string(), l.span.start))
                };
                key(a).cmp(&key(b))
            });
            return Err(diags);
        }
        Ok(Project {
            work_dir: root.join(".plinth"),
            root,
            config,
            stacks,
            index,
        })
    }

    /// The same project with its work (plans, history, engine data) kept under `dir`.
    pub fn with_work_dir(mut self, dir: PathBuf) -> Project {
        self.work_dir = dir;
        self
    }

    /// The stack with id `id`.
    pub fn stack(&self, id: &str) -> Option<&Stack> {
        self.index.get(id).map(|&i| &self.stacks[i])
    }

    /// The stacks with an instance in `env`, sorted by id.
    pub fn instances(&self, env: &str) -> impl Iterator<Item = &Stack> {
        self.stacks.iter().filter(move |s| s.in_env(env))
    }
}

/// Reads and parses one `stack.hcl`; one that is not a regular file (a directory, a FIFO)
/// is an error rather than silently no stack, and is never opened.
fn read_stack_file(path: &Path, display: &str) -> Result<StackConfig, Vec<Diagnostic>> {
    let meta = std::fs::metadata(path)
        .map_err(|e| vec![Diagnostic::error(format!("cannot read {display}: {e}"))])?;
    if !meta.is_file() {
        let what = if meta.is_dir() {
            "a directory"
        } else {
            "not a regular file (a FIFO, socket or device)"
        };
        return Err(vec![
            Diagnostic::error(format!("{display} is {what}"))
                .with_help("a stack is marked by a regular file named stack.hcl"),
        ]);
    }
    let bytes = std::fs::read(path)
        .map_err(|e| vec![Diagnostic::error(format!("cannot read {display}: {e}"))])?;
    let text = plinth_config::decode_utf8(display, &bytes).map_err(|d| vec![*d])?;
    StackConfig::parse(display, text)
}

/// The id of the stack in `dir`: its path relative to `root`, `/`-separated; `.` for the root.
fn stack_id(root: &Path, dir: &Path) -> String {
    let rel = dir.strip_prefix(root).unwrap_or(dir);
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

/// Resolves a `dependency.stack` or `after` entry written in stack `from` to a stack id.
///
/// `./x` and `../x` are relative to the stack's directory; anything else is project-relative.
fn resolve_ref(from: &str, written: &str) -> Result<String, String> {
    let written_trim = written.trim_end_matches('/');
    // Decided on the text as written: trimming "./" leaves ".", which must stay relative.
    let relative = written.starts_with("./") || written.starts_with("../") || written_trim == "..";
    let mut parts: Vec<&str> = if relative && from != "." {
        from.split('/').collect()
    } else {
        Vec::new()
    };
    for component in Path::new(written_trim).components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if parts.pop().is_none() {
                    return Err(format!("`{written}` points outside the project root"));
                }
            }
            Component::Normal(p) => parts.push(p.to_str().unwrap_or_default()),
            Component::RootDir | Component::Prefix(_) => {
                return Err(format!(
                    "`{written}` is an absolute path; use a project-relative id or a `./`/`../` path"
                ));
            }
        }
    }
    Ok(if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    })
}

#[cfg(test)]
mod tests {
    use super::resolve_ref;

    #[test]
    fn resolves_relative_and_project_ids() {
        assert_eq!(
            resolve_ref("infra/app", "../network").unwrap(),
            "infra/network"
        );
        assert_eq!(resolve_ref("infra/app", "./db").unwrap(), "infra/app/db");
        assert_eq!(
            resolve_ref("infra/app", "plumbing/network").unwrap(),
            "plumbing/network"
        );
        assert_eq!(
            resolve_ref("infra/app", "plumbing/network/").unwrap(),
            "plumbing/network"
        );
        assert_eq!(resolve_ref("infra/app", "./").unwrap(), "infra/app");
        assert_eq!(resolve_ref("infra/app", "..").unwrap(), "infra");
        assert!(resolve_ref("app", "../../x").is_err());
        assert!(resolve_ref("app", "/abs").is_err());
    }
}
