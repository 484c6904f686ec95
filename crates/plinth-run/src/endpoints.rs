//! Local emulator endpoints (`environment "local" { endpoints = { aws = "http://…:4566" } }`):
//! the generated provider override reaches only that environment's instances.
//!
//! The backend override can live in the stack directory because it is the same for every
//! environment (the per-instance settings go to `init` as `-backend-config`). The endpoints
//! override is not: written into the stack directory, it would be read by another
//! environment's run of the same stack at the same time (two plinth processes on two
//! environments run one directory at once), or left behind by a crash for the next one. The
//! engine has no flag or variable that adds a configuration file, and provider settings cannot
//! be passed through `TF_CLI_ARGS` or `-var`. So an instance of an environment with endpoints
//! runs in a mirror of its own under its `TF_DATA_DIR`: a real directory per level from the
//! project root down to the stack, every other entry a symlink to the real one, and the
//! override a real file beside the stack's symlinked code. Relative paths (`../modules/x`,
//! `file("templates/a")`) resolve as in the real tree; the user's tree is never written to.
//! Only what the stack uses is overridden: a `provider "aws"` block in a stack without AWS
//! resources would make `init` fetch a provider the stack never needs.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use plinth_config::ENDPOINTS_OVERRIDE_FILE;
use plinth_engine::{EngineError, Invocation};

use crate::context::RunContext;

/// Where an instance's mirror lives in its data dir (a name no stack directory takes: stack
/// ids never start with a dot).
const MIRROR_DIR: &str = ".tree";

/// Entries never mirrored: plinth's and git's own directories, the engine's cache, and the
/// files plinth generates (the mirror gets its own).
fn skipped(name: &str) -> bool {
    matches!(name, ".plinth" | ".git" | ".terraform")
        || name == plinth_engine::OVERRIDE_FILE
        || name == ENDPOINTS_OVERRIDE_FILE
}

impl RunContext {
    /// The stack's directory in the project.
    pub(crate) fn stack_dir(&self, stack: &str) -> &Path {
        &self.project.stack(stack).expect("graph stacks exist").dir
    }

    /// The endpoints override of an instance: the environment's endpoints for the providers
    /// its code (and the local modules it calls) uses; `None` when there is none.
    pub(crate) fn endpoints_override(&self, stack: &str) -> Option<String> {
        if self.environment.endpoints.is_empty() {
            return None;
        }
        let mut dirs = vec![self.stack_dir(stack).to_path_buf()];
        dirs.extend(self.modules.get(stack).into_iter().flatten().cloned());
        let used = providers_used(&dirs);
        let endpoints: Vec<(&str, &str)> = self
            .environment
            .endpoints
            .iter()
            .filter(|(provider, _)| used.includes(provider))
            .map(|(provider, url)| (provider.as_str(), url.value.as_str()))
            .collect();
        plinth_config::endpoints_override_file(&endpoints)
    }

    /// The directory the engine runs an instance in: the stack's own, or its mirror when it
    /// has an endpoints override.
    pub(crate) fn engine_dir(&self, stack: &str) -> PathBuf {
        let dir = self.stack_dir(stack);
        if self.endpoints_override(stack).is_none() {
            return dir.to_path_buf();
        }
        let rel = dir
            .strip_prefix(&self.project.root)
            .unwrap_or(Path::new(""));
        self.mirror_root(stack).join(rel)
    }

    fn mirror_root(&self, stack: &str) -> PathBuf {
        self.layout.data_dir(self.env(), stack).join(MIRROR_DIR)
    }

    /// Builds (or brings up to date) the mirror `inv` runs in, with the override file, before
    /// the engine starts; nothing to do for an instance that runs in its own directory.
    pub(crate) fn prepare_engine_dir(
        &self,
        stack: &str,
        inv: &Invocation,
    ) -> Result<(), EngineError> {
        let dir = self.stack_dir(stack);
        if inv.dir == dir {
            return Ok(());
        }
        let io = |p: &Path, e: std::io::Error| EngineError::Io(p.display().to_string(), e);
        let content = self.endpoints_override(stack).unwrap_or_default();
        mirror(&self.project.root, dir, &self.mirror_root(stack)).map_err(|(p, e)| io(&p, e))?;
        write_if_changed(&inv.dir.join(ENDPOINTS_OVERRIDE_FILE), &content)
            .map_err(|(p, e)| io(&p, e))
    }
}

/// Which providers some code uses, as far as its files say.
struct Used {
    providers: BTreeSet<String>,
    /// A module plinth does not read (registry, git) may use any provider.
    unread_module: bool,
}

impl Used {
    fn includes(&self, provider: &str) -> bool {
        self.unread_module || self.providers.contains(provider)
    }
}

/// The providers named by `resource`/`data`/`ephemeral` types, `provider` blocks and
/// `required_providers` in the `.tf` files of `dirs`.
fn providers_used(dirs: &[PathBuf]) -> Used {
    let mut used = Used {
        providers: BTreeSet::new(),
        unread_module: false,
    };
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for path in entries.flatten().map(|e| e.path()) {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            if path.extension().is_none_or(|e| e != "tf") || name.as_deref().is_some_and(skipped) {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let Ok(body) = hcl::parse(&text) else {
                // The engine reports the syntax error; until then, assume the worst.
                used.unread_module = true;
                continue;
            };
            for block in body.blocks() {
                let label = block.labels().first().map(|l| l.as_str());
                match (block.identifier(), label) {
                    ("resource" | "data" | "ephemeral", Some(kind)) => {
                        if let Some((provider, _)) = kind.split_once('_') {
                            used.providers.insert(provider.to_string());
                        }
                    }
                    ("provider", Some(provider)) => {
                        used.providers.insert(provider.to_string());
                    }
                    ("terraform", _) => {
                        for inner in block.body().blocks() {
                            if inner.identifier() == "required_providers" {
                                used.providers
                                    .extend(inner.body().attributes().map(|a| a.key().to_string()));
                            }
                        }
                    }
                    ("module", _) => {
                        let local = block.body().attributes().any(|a| {
                            a.key() == "source"
                                && matches!(a.expr(), hcl::Expression::String(s)
                                    if s.starts_with("./") || s.starts_with("../"))
                        });
                        used.unread_module |= !local;
                    }
                    _ => {}
                }
            }
        }
    }
    used
}

type IoFailure = (PathBuf, std::io::Error);

/// Mirrors `stack_dir` (under `root`) at the same relative place under `mirror_root`: real
/// directories along the way, symlinks to everything else. Idempotent: entries already right
/// are kept, stale ones removed.
fn mirror(root: &Path, stack_dir: &Path, mirror_root: &Path) -> Result<(), IoFailure> {
    let rel = stack_dir.strip_prefix(root).unwrap_or(Path::new(""));
    let parts: Vec<OsString> = rel.iter().map(|c| c.to_os_string()).collect();
    let (mut real, mut shadow) = (root.to_path_buf(), mirror_root.to_path_buf());
    for i in 0..=parts.len() {
        sync_level(&real, &shadow, parts.get(i).map(OsString::as_os_str))?;
        if let Some(part) = parts.get(i) {
            real.push(part);
            shadow.push(part);
        }
    }
    Ok(())
}

/// One level of the mirror: `shadow` holds a symlink to each entry of `real`, except
/// `descend`, which is a real directory (the next level down).
fn sync_level(
    real: &Path,
    shadow: &Path,
    descend: Option<&std::ffi::OsStr>,
) -> Result<(), IoFailure> {
    let fail = |p: &Path| {
        let p = p.to_path_buf();
        move |e| (p, e)
    };
    std::fs::create_dir_all(shadow).map_err(fail(shadow))?;
    let mut wanted: Vec<OsString> = Vec::new();
    for entry in std::fs::read_dir(real).map_err(fail(real))? {
        let name = entry.map_err(fail(real))?.file_name();
        if !skipped(&name.to_string_lossy()) {
            wanted.push(name);
        }
    }
    let is_stack_level = descend.is_none();
    for entry in std::fs::read_dir(shadow).map_err(fail(shadow))? {
        let entry = entry.map_err(fail(shadow))?;
        let name = entry.file_name();
        let path = entry.path();
        let kind = entry.file_type().map_err(fail(&path))?;
        let keep = if Some(name.as_os_str()) == descend {
            kind.is_dir()
        } else if kind.is_symlink() {
            wanted.contains(&name) && std::fs::read_link(&path).is_ok_and(|t| t == real.join(&name))
        } else {
            // The mirror's own files at the stack level: the override, the backend override
            // `init` writes, and a lock file the engine wrote here because the stack has none.
            is_stack_level
                && (skipped(&name.to_string_lossy())
                    || (name == ".terraform.lock.hcl" && !wanted.contains(&name)))
        };
        if keep {
            continue;
        }
        if kind.is_dir() {
            std::fs::remove_dir_all(&path).map_err(fail(&path))?;
        } else {
            std::fs::remove_file(&path).map_err(fail(&path))?;
        }
    }
    for name in wanted {
        if Some(name.as_os_str()) == descend {
            std::fs::create_dir_all(shadow.join(&name)).map_err(fail(&shadow.join(&name)))?;
            continue;
        }
        let link = shadow.join(&name);
        let target = real.join(&name);
        match std::os::unix::fs::symlink(&target, &link) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if std::fs::read_link(&link).map_err(fail(&link))? != target {
                    return Err((link, e));
                }
            }
            Err(e) => return Err((link, e)),
        }
    }
    if let Some(next) = descend {
        std::fs::create_dir_all(shadow.join(next)).map_err(fail(&shadow.join(next)))?;
    }
    Ok(())
}

/// Writes `content` through a temporary file and a rename unless the file already has it; an
/// empty `content` removes the file.
fn write_if_changed(path: &Path, content: &str) -> Result<(), IoFailure> {
    if content.is_empty() {
        return match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err((path.to_path_buf(), e)),
            _ => Ok(()),
        };
    }
    if std::fs::read_to_string(path).is_ok_and(|c| c == content) {
        return Ok(());
    }
    let tmp = path.with_extension(format!("tf.{}.tmp", std::process::id()));
    std::fs::write(&tmp, content).map_err(|e| (tmp.clone(), e))?;
    std::fs::rename(&tmp, path).map_err(|e| (path.to_path_buf(), e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// The real engine plans in the mirror: relative module paths and files resolve as in
    /// the stack directory, an override file there changes what is planned, and the stack
    /// directory itself never sees it.
    #[test]
    fn the_engine_runs_in_the_mirror_with_its_override_and_the_tree_is_untouched() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        write(
            &root.join("modules/echo/main.tf"),
            "variable \"text\" {}\noutput \"text\" { value = var.text }\n",
        );
        write(&root.join("services/api/greeting.txt"), "hello");
        write(
            &root.join("services/api/main.tf"),
            "module \"echo\" {\n  source = \"../../modules/echo\"\n  text   = file(\"greeting.txt\")\n}\n\
             resource \"terraform_data\" \"x\" {\n  input = module.echo.text\n}\n",
        );
        write(&root.join("services/web/main.tf"), "# a sibling stack\n");
        let before: Vec<_> = std::fs::read_dir(root.join("services/api"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();

        let mirror_root = root
            .join(".plinth/work/local/services/api")
            .join(MIRROR_DIR);
        mirror(&root, &root.join("services/api"), &mirror_root).unwrap();
        let shadow = mirror_root.join("services/api");
        write_if_changed(
            &shadow.join(ENDPOINTS_OVERRIDE_FILE),
            "resource \"terraform_data\" \"x\" {\n  input = \"from the override\"\n}\n",
        )
        .unwrap();
        assert!(
            std::fs::symlink_metadata(shadow.join("main.tf"))
                .unwrap()
                .is_symlink()
        );
        assert!(
            std::fs::symlink_metadata(mirror_root.join("services/web"))
                .unwrap()
                .is_symlink()
        );
        assert!(
            !mirror_root.join(".plinth").exists(),
            "plinth's own directory is not mirrored"
        );

        let data = root.join(".plinth/work/local/services/api");
        let run = |dir: &Path, data_dir: &str| {
            let env = [("TF_DATA_DIR", data.join(data_dir))];
            let out = Command::new("terraform")
                .args(["init", "-input=false", "-no-color"])
                .current_dir(dir)
                .envs(env.clone())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let out = Command::new("terraform")
                .args(["plan", "-input=false", "-no-color"])
                .current_dir(dir)
                .envs(env)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        assert!(run(&shadow, "mirrored").contains("\"from the override\""));
        assert!(run(&root.join("services/api"), "real").contains("\"hello\""));
        let after: Vec<_> = std::fs::read_dir(root.join("services/api"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            before.len(),
            after.len(),
            "nothing written into the stack: {after:?}"
        );

        // Brought up to date: a file that appeared in the stack is linked, one that went is
        // unlinked, and the mirror's own override stays.
        write(&root.join("services/api/extra.tf"), "");
        std::fs::remove_file(root.join("services/api/greeting.txt")).unwrap();
        mirror(&root, &root.join("services/api"), &mirror_root).unwrap();
        assert!(
            std::fs::symlink_metadata(shadow.join("extra.tf"))
                .unwrap()
                .is_symlink()
        );
        assert!(std::fs::symlink_metadata(shadow.join("greeting.txt")).is_err());
        assert!(shadow.join(ENDPOINTS_OVERRIDE_FILE).is_file());
    }

    #[test]
    fn only_providers_the_code_uses_are_overridden() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        write(&d.join("main.tf"), "resource \"terraform_data\" \"x\" {}\n");
        let used = providers_used(&[d.to_path_buf()]);
        assert!(!used.includes("aws"));
        write(
            &d.join("data.tf"),
            "data \"aws_caller_identity\" \"me\" {}\n",
        );
        assert!(providers_used(&[d.to_path_buf()]).includes("aws"));
        std::fs::remove_file(d.join("data.tf")).unwrap();
        write(
            &d.join("vpc.tf"),
            "module \"vpc\" {\n  source = \"terraform-aws-modules/vpc/aws\"\n}\n",
        );
        assert!(providers_used(&[d.to_path_buf()]).includes("cloudflare"));
    }
}
