//! Finding the engine binary and checking its version.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::SystemTime;

use crate::EngineError;
use crate::constraint::{Version, satisfies};

/// Which engine a binary is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// HashiCorp Terraform.
    Terraform,
    /// OpenTofu.
    Tofu,
}

/// A located, version-checked engine.
#[derive(Debug, Clone)]
pub struct Engine {
    /// Absolute path of the binary.
    pub binary: PathBuf,
    /// Terraform or OpenTofu.
    pub flavor: Flavor,
    /// Its version.
    pub version: Version,
}

impl Engine {
    /// Finds `spec` (a name on PATH, or a path relative to `root`) and checks it against
    /// `constraint`.
    pub fn locate(
        spec: &str,
        root: &Path,
        constraint: Option<&str>,
    ) -> Result<Engine, EngineError> {
        let binary = if spec.contains('/') {
            let p = root.join(spec);
            if !p.is_file() {
                return Err(EngineError::NotFound {
                    spec: spec.to_string(),
                    detail: format!("{} does not exist", p.display()),
                });
            }
            p
        } else {
            find_on_path(spec).ok_or_else(|| EngineError::NotFound {
                spec: spec.to_string(),
                detail: "not found on PATH".to_string(),
            })?
        };
        let (flavor, version) = identify(&binary, spec)?;
        if let Some(c) = constraint {
            let ok = satisfies(&version, c).map_err(EngineError::Constraint)?;
            if !ok {
                return Err(EngineError::WrongVersion {
                    binary: binary.display().to_string(),
                    found: version.to_string(),
                    wanted: c.to_string(),
                });
            }
        }
        Ok(Engine {
            binary,
            flavor,
            version,
        })
    }
}

/// What a binary is, remembered per process by path, size and modification time: a server
/// locates the engine for every job, and `version -json` costs a process each time.
fn identify(binary: &Path, spec: &str) -> Result<(Flavor, Version), EngineError> {
    type Seen = HashMap<(PathBuf, u64, Option<SystemTime>), (Flavor, Version)>;
    static SEEN: OnceLock<Mutex<Seen>> = OnceLock::new();
    let key = binary
        .metadata()
        .ok()
        .map(|m| (binary.to_path_buf(), m.len(), m.modified().ok()));
    let seen = SEEN.get_or_init(Default::default);
    if let Some(k) = &key
        && let Some(found) = seen.lock().expect("no panics under this lock").get(k)
    {
        return Ok(found.clone());
    }
    let found = ask_version(binary, spec)?;
    if let Some(k) = key {
        seen.lock()
            .expect("no panics under this lock")
            .insert(k, found.clone());
    }
    Ok(found)
}

/// Runs `version -json`.
fn ask_version(binary: &Path, spec: &str) -> Result<(Flavor, Version), EngineError> {
    let out = std::process::Command::new(binary)
        .args(["version", "-json"])
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .map_err(|e| EngineError::NotFound {
            spec: spec.to_string(),
            detail: format!("cannot run {}: {e}", binary.display()),
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|_| EngineError::NotFound {
            spec: spec.to_string(),
            detail: format!(
                "{} did not answer `version -json` like terraform or tofu",
                binary.display()
            ),
        })?;
    let (flavor, raw) = if let Some(v) = json.get("terraform_version").and_then(|v| v.as_str()) {
        // OpenTofu answers with `terraform_version` too; its platform output names it.
        let is_tofu = binary
            .file_name()
            .is_some_and(|n| n.to_string_lossy().contains("tofu"));
        (
            if is_tofu {
                Flavor::Tofu
            } else {
                Flavor::Terraform
            },
            v.to_string(),
        )
    } else {
        return Err(EngineError::NotFound {
            spec: spec.to_string(),
            detail: "no version in `version -json`".into(),
        });
    };
    let version = Version::parse(&raw).ok_or_else(|| EngineError::NotFound {
        spec: spec.to_string(),
        detail: format!("unreadable version `{raw}`"),
    })?;
    Ok((flavor, version))
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
