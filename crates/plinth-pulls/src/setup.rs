//! The server's forge set-up from `plinth-server.hcl`: each forge's webhook secret and API
//! client, each repository's settings, the data directory and the worker count.
//!
//! Secrets come only from the environment variables the file names. Every variable that is
//! unset or empty is reported at once, at the attribute naming it, so that an operator fixes
//! them all in one go; values are never printed (`Debug` shows `[REDACTED]`).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use plinth_config::{ForgeAuth, ForgeDecl, ForgeKind, ServerFile};
use plinth_diag::Diagnostic;
use plinth_forge::{ClientConfig, Credentials, CredentialsError, Forge, client_for};
use secrecy::SecretString;

/// Where the set-up is read from, besides the server file.
#[derive(Debug, Clone)]
pub struct SetupOptions {
    /// Relative paths in the server file (`data_dir`, `private_key_file`) are taken from
    /// here: the file's own directory.
    pub base_dir: PathBuf,
    /// The database the server opens: the default `data_dir` sits next to a SQLite file.
    pub db_url: String,
    /// The working directory: the default `data_dir` for PostgreSQL is `./.plinth/server`.
    pub cwd: PathBuf,
    /// How the forge clients talk to their APIs.
    pub client: ClientConfig,
}

impl SetupOptions {
    /// Options with the default forge client settings (`PLINTH_CA_FILE` honoured).
    pub fn new(base_dir: &Path, db_url: &str, cwd: &Path) -> SetupOptions {
        SetupOptions {
            base_dir: base_dir.to_path_buf(),
            db_url: db_url.to_string(),
            cwd: cwd.to_path_buf(),
            client: ClientConfig::default(),
        }
    }
}

/// Why the server cannot start: one diagnostic per problem, each at file:line:col.
#[derive(Debug)]
pub struct SetupError {
    /// The problems, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.diagnostics.iter().map(Diagnostic::one_line).collect();
        f.write_str(&lines.join("\n"))
    }
}

impl std::error::Error for SetupError {}

/// One `forge` block, ready: its API client and webhook secret.
pub struct ForgeSetup {
    name: String,
    kind: ForgeKind,
    api_url: String,
    client: Arc<dyn Forge>,
    webhook_secret: SecretString,
}

impl fmt::Debug for ForgeSetup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ForgeSetup")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("api_url", &self.api_url)
            .field("client", &self.client)
            .field("webhook_secret", &"[REDACTED]")
            .finish()
    }
}

impl ForgeSetup {
    /// The block's name (`gh`), as deliveries are stored under it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Which forge.
    pub fn kind(&self) -> ForgeKind {
        self.kind
    }

    /// The API root.
    pub fn api_url(&self) -> &str {
        &self.api_url
    }

    /// The API client.
    pub fn client(&self) -> Arc<dyn Forge> {
        self.client.clone()
    }

    /// The webhook secret (GitLab: the token), for verifying deliveries only.
    pub(crate) fn webhook_secret(&self) -> &SecretString {
        &self.webhook_secret
    }
}

/// One `repo` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoSetup {
    /// `owner/name` as the file spells it (GitLab: the project's full path).
    pub name: String,
    /// The forge block it lives on.
    pub forge: String,
    /// Its forge's type.
    pub kind: ForgeKind,
    /// Where to clone from; `None`: the URL in the webhook payload.
    pub clone_url: Option<String>,
    /// Who may apply; `None`: anyone the forge gives write permission.
    pub appliers: Option<Vec<String>>,
    /// The plinth project's directory inside the repository (`.` for its root).
    pub project_dir: String,
    /// The branch drift checks plan (`main` unless the repo block names another).
    pub default_branch: String,
}

/// Everything `plinth serve --config` knows about forges and repositories.
#[derive(Debug)]
pub struct PullsSetup {
    forges: Vec<ForgeSetup>,
    repos: Vec<RepoSetup>,
    data_dir: PathBuf,
    public_url: Option<String>,
    workers: usize,
}

impl PullsSetup {
    /// Reads every secret `file` names from the process environment and builds the clients.
    pub fn load(file: &ServerFile, options: &SetupOptions) -> Result<PullsSetup, SetupError> {
        Self::load_with_env(file, options, |name| std::env::var(name).ok())
    }

    /// Like [`PullsSetup::load`], with the environment given as a lookup (tests, embedders).
    /// A value that is empty or only whitespace counts as unset; values are trimmed.
    pub fn load_with_env(
        file: &ServerFile,
        options: &SetupOptions,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<PullsSetup, SetupError> {
        let source = &file.source;
        let mut diags = Vec::new();
        let read = |var: &plinth_config::Spanned<String>,
                    forge: &str,
                    what: &str,
                    diags: &mut Vec<Diagnostic>|
         -> Option<String> {
            match env(&var.value).map(|v| v.trim().to_string()) {
                Some(v) if !v.is_empty() => Some(v),
                _ => {
                    diags.push(
                        Diagnostic::error(format!(
                            "forge `{forge}`: the environment variable {} is unset or empty",
                            var.value
                        ))
                        .at(source, var.span.clone(), format!("{what} is read from it"))
                        .with_help(format!(
                            "set {} in the server's environment; plinth never prints its value",
                            var.value
                        )),
                    );
                    None
                }
            }
        };
        let mut forges = Vec::new();
        for decl in &file.forges {
            let name = &decl.name.value;
            if !is_slug(name) {
                diags.push(
                    Diagnostic::error(format!("forge name `{name}` cannot name deliveries"))
                        .at(source, decl.name.span.clone(), "in this label")
                        .with_help("use 1 to 100 letters, digits, `.`, `_` and `-`"),
                );
            }
            let secret = read(
                &decl.webhook_secret_env,
                name,
                "the webhook secret",
                &mut diags,
            );
            let credentials = match &decl.auth {
                ForgeAuth::Token { env: var } => {
                    read(var, name, "the API token", &mut diags).map(Credentials::Token)
                }
                ForgeAuth::GitHubApp {
                    private_key_file, ..
                } => {
                    let resolved = resolved_key_file(decl, &options.base_dir);
                    match Credentials::from_env(&resolved) {
                        Ok(c) => Some(c),
                        Err(e) => {
                            let detail = match e {
                                CredentialsError::KeyFile { detail, .. } => detail,
                                CredentialsError::Unset { var, .. } => format!("{var} is unset"),
                            };
                            diags.push(
                                Diagnostic::error(format!(
                                    "forge `{name}`: cannot read the GitHub App's private key: \
                                     {detail}"
                                ))
                                .at(
                                    source,
                                    private_key_file.span.clone(),
                                    "this file",
                                ),
                            );
                            None
                        }
                    }
                }
            };
            let (Some(secret), Some(credentials)) = (secret, credentials) else {
                continue;
            };
            match client_for(decl, credentials, &options.client) {
                Ok(client) => forges.push(ForgeSetup {
                    name: name.clone(),
                    kind: decl.kind,
                    api_url: decl.api_url.clone(),
                    client,
                    webhook_secret: SecretString::from(secret),
                }),
                Err(e) => diags.push(Diagnostic::error(format!("forge `{name}`: {e}")).at(
                    source,
                    decl.name.span.clone(),
                    "this forge",
                )),
            }
        }
        let mut repos = Vec::new();
        for decl in &file.repos {
            let name = &decl.name.value;
            if plinth_state::PullRef::new(name, 1).is_err() {
                diags.push(
                    Diagnostic::error(format!("repo `{name}` is not a repository path"))
                        .at(source, decl.name.span.clone(), "in this label")
                        .with_help(
                            "write OWNER/NAME (GitLab: GROUP/…/NAME) of letters, digits, `.`, \
                             `_` and `-`",
                        ),
                );
            }
            let Some(forge) = file.forge(&decl.forge.value) else {
                // plinth-config already refused a repo naming an unknown forge.
                continue;
            };
            repos.push(RepoSetup {
                name: name.clone(),
                forge: forge.name.value.clone(),
                kind: forge.kind,
                clone_url: decl.clone_url.clone(),
                appliers: decl.appliers.clone(),
                project_dir: decl.project_dir.clone(),
                default_branch: decl.default_branch.clone(),
            });
        }
        if !diags.is_empty() {
            diags.sort_by_key(|d| d.labels.first().map_or(0, |l| l.span.start));
            return Err(SetupError { diagnostics: diags });
        }
        let data_dir = match &file.server.data_dir {
            Some(dir) => options.base_dir.join(dir),
            None => default_data_dir(&options.db_url, &options.cwd),
        };
        Ok(PullsSetup {
            forges,
            repos,
            data_dir,
            public_url: file.server.public_url.clone(),
            workers: file.server.workers,
        })
    }

    /// The `repo` block for `name`, compared case-insensitively as forges do.
    pub fn repo(&self, name: &str) -> Option<&RepoSetup> {
        self.repos
            .iter()
            .find(|r| r.name.eq_ignore_ascii_case(name))
    }

    /// Every `repo` block, in file order.
    pub fn repos(&self) -> &[RepoSetup] {
        &self.repos
    }

    /// The forge block called `name`.
    pub fn forge(&self, name: &str) -> Option<&ForgeSetup> {
        self.forges.iter().find(|f| f.name == name)
    }

    /// Every forge block, in file order.
    pub fn forges(&self) -> &[ForgeSetup] {
        &self.forges
    }

    /// The API client of the forge `repo` lives on; `None` for an unlisted repository.
    pub fn forge_of(&self, repo: &str) -> Option<Arc<dyn Forge>> {
        let repo = self.repo(repo)?;
        self.forge(&repo.forge).map(ForgeSetup::client)
    }

    /// Mirrors, worktrees, plans and logs: `server.data_dir` (relative to the server file),
    /// else `server/` next to a SQLite database file, else `./.plinth/server` (PostgreSQL,
    /// or an in-memory SQLite).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// This server's base URL for links in comments and statuses (no trailing `/`).
    pub fn public_url(&self) -> Option<&str> {
        self.public_url.as_deref()
    }

    /// Jobs this replica runs at once.
    pub fn workers(&self) -> usize {
        self.workers
    }
}

/// The forge block with its App key file taken relative to the server file's directory.
fn resolved_key_file(decl: &ForgeDecl, base_dir: &Path) -> ForgeDecl {
    let mut decl = decl.clone();
    if let ForgeAuth::GitHubApp {
        private_key_file, ..
    } = &mut decl.auth
    {
        private_key_file.value = base_dir.join(&private_key_file.value).display().to_string();
    }
    decl
}

/// `server/` beside a SQLite file (where the operator already keeps the server's data), or
/// `.plinth/server` under the working directory when there is no such file.
fn default_data_dir(db_url: &str, cwd: &Path) -> PathBuf {
    let fallback = || cwd.join(".plinth").join("server");
    let Some(rest) = db_url.strip_prefix("sqlite:") else {
        return fallback();
    };
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return fallback();
    }
    let file = cwd.join(path);
    match file.parent() {
        Some(dir) => dir.join("server"),
        None => fallback(),
    }
}

/// What `plinth-state` accepts as a forge name (deliveries are keyed by it).
fn is_slug(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_data_dir_follows_the_database() {
        let cwd = Path::new("/srv/plinth");
        assert_eq!(
            default_data_dir("sqlite:/var/lib/plinth/state.db", cwd),
            Path::new("/var/lib/plinth/server")
        );
        assert_eq!(
            default_data_dir("sqlite://data/state.db?mode=rwc", cwd),
            Path::new("/srv/plinth/data/server")
        );
        assert_eq!(
            default_data_dir("postgres://plinth@db/plinth", cwd),
            Path::new("/srv/plinth/.plinth/server")
        );
        assert_eq!(
            default_data_dir("sqlite::memory:", cwd),
            Path::new("/srv/plinth/.plinth/server")
        );
    }
}
