//! `plinth-server.hcl`: the server's own file (`plinth serve --config FILE`) with its
//! `server`, `forge` and `repo` blocks. Secrets never appear in it: it names the environment
//! variables that hold them.

use std::ops::Range;
use std::sync::Arc;

use plinth_diag::{Diagnostic, SourceFile};

use crate::body::{Reader, header_span, no_labels, one_label};
use crate::{ParseResult, Spanned, parse_hcl};

/// Conventional name of the server file.
pub const SERVER_FILE: &str = "plinth-server.hcl";

/// The parsed server file.
#[derive(Debug, Clone)]
pub struct ServerFile {
    /// The file's text, for diagnostics.
    pub source: Arc<SourceFile>,
    /// The `server` block.
    pub server: ServerSettings,
    /// `forge` blocks.
    pub forges: Vec<ForgeDecl>,
    /// `repo` blocks: the only repositories served.
    pub repos: Vec<RepoDecl>,
}

/// The `server` block.
#[derive(Debug, Clone, Default)]
pub struct ServerSettings {
    /// Base URL of this server, for links in comments and statuses.
    pub public_url: Option<String>,
    /// Mirrors, worktrees, plans and logs (default: next to the database).
    pub data_dir: Option<String>,
    /// Jobs this replica runs at once (default 2).
    pub workers: usize,
}

/// Which forge a `forge` block talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForgeKind {
    /// GitHub or GitHub Enterprise Server.
    GitHub,
    /// GitLab.
    GitLab,
    /// Gitea or Forgejo.
    Gitea,
}

impl ForgeKind {
    /// `github`, `gitlab` or `gitea`.
    pub fn as_str(self) -> &'static str {
        match self {
            ForgeKind::GitHub => "github",
            ForgeKind::GitLab => "gitlab",
            ForgeKind::Gitea => "gitea",
        }
    }

    /// The public API root of the forge's hosted service.
    pub fn default_api_url(self) -> &'static str {
        match self {
            ForgeKind::GitHub => "https://api.github.com",
            ForgeKind::GitLab => "https://gitlab.com/api/v4",
            ForgeKind::Gitea => "https://gitea.com/api/v1",
        }
    }
}

/// How the server authenticates to a forge's API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForgeAuth {
    /// A token read from this environment variable.
    Token {
        /// The variable's name.
        env: Spanned<String>,
    },
    /// A GitHub App: a JWT signed with the private key, exchanged for installation tokens.
    GitHubApp {
        /// The App's id.
        app_id: u64,
        /// PEM file of the App's private key.
        private_key_file: Spanned<String>,
    },
}

/// A `forge` block.
#[derive(Debug, Clone)]
pub struct ForgeDecl {
    /// Its name, the block label.
    pub name: Spanned<String>,
    /// Which forge.
    pub kind: ForgeKind,
    /// API root (GHES `…/api/v3`, GitLab `…/api/v4`, Gitea `…/api/v1`).
    pub api_url: String,
    /// API credentials.
    pub auth: ForgeAuth,
    /// The environment variable holding the webhook secret.
    pub webhook_secret_env: Spanned<String>,
}

/// A `repo` block.
#[derive(Debug, Clone)]
pub struct RepoDecl {
    /// `owner/name` (GitLab: the project's full path).
    pub name: Spanned<String>,
    /// The forge block it lives on.
    pub forge: Spanned<String>,
    /// Where to clone from (default: the URL in the webhook payload).
    pub clone_url: Option<String>,
    /// Who may apply (default: anyone the forge gives write permission).
    pub appliers: Option<Vec<String>>,
    /// Directory of the plinth project inside the repository (default: its root).
    pub project_dir: String,
    /// The branch scheduled drift checks plan and the reaper falls back to (default `main`).
    pub default_branch: String,
}

impl ServerFile {
    /// Parses a server file; `path` is how it is shown in messages.
    pub fn parse(path: &str, text: &str) -> ParseResult<ServerFile> {
        let (source, body) = parse_hcl(path, text).map_err(|d| vec![*d])?;
        let mut diags = Vec::new();
        let top = Reader::new(
            &body,
            &source,
            SERVER_FILE,
            0..0,
            &[],
            &["server", "forge", "repo"],
            &mut diags,
        );
        let mut server: Option<ServerSettings> = None;
        let mut forges: Vec<ForgeDecl> = Vec::new();
        let mut repos: Vec<RepoDecl> = Vec::new();
        for block in &top.blocks {
            let span = hcl_edit::Span::span(*block).unwrap_or_else(|| header_span(block));
            match block.ident.value().as_str() {
                "server" => {
                    no_labels(block, &source, "server", &mut diags);
                    if server.is_some() {
                        diags.push(
                            Diagnostic::error("the `server` block is declared twice").at(
                                &source,
                                header_span(block),
                                "second declaration",
                            ),
                        );
                        continue;
                    }
                    server = Some(parse_server(block, &source, span, &mut diags));
                }
                "forge" => {
                    if let Some(f) = parse_forge(block, &source, span, &mut diags) {
                        if forges.iter().any(|g| g.name.value == f.name.value) {
                            diags.push(
                                Diagnostic::error(format!(
                                    "forge `{}` is declared twice",
                                    f.name.value
                                ))
                                .at(
                                    &source,
                                    f.name.span.clone(),
                                    "declared again here",
                                ),
                            );
                        } else {
                            forges.push(f);
                        }
                    }
                }
                _ => {
                    if let Some(r) = parse_repo(block, &source, span, &mut diags) {
                        if repos.iter().any(|q| q.name.value == r.name.value) {
                            diags.push(
                                Diagnostic::error(format!(
                                    "repo `{}` is declared twice",
                                    r.name.value
                                ))
                                .at(
                                    &source,
                                    r.name.span.clone(),
                                    "declared again here",
                                ),
                            );
                        } else {
                            repos.push(r);
                        }
                    }
                }
            }
        }
        let names: Vec<&str> = forges.iter().map(|f| f.name.value.as_str()).collect();
        for repo in &repos {
            if !names.contains(&repo.forge.value.as_str()) {
                let mut d = Diagnostic::error(format!(
                    "repo `{}` names unknown forge `{}`",
                    repo.name.value, repo.forge.value
                ))
                .at(
                    &source,
                    repo.forge.span.clone(),
                    "no forge block with this name",
                );
                d = match crate::did_you_mean(&repo.forge.value, names.iter().copied()) {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None if names.is_empty() => d.with_help(
                        "declare it: `forge \"gh\" { type = \"github\" webhook_secret_env = \"…\" token_env = \"…\" }`",
                    ),
                    None => d.with_help(format!("forges: {}", names.join(", "))),
                };
                diags.push(d);
            }
        }
        if !diags.is_empty() {
            diags.sort_by_key(|d| d.labels.first().map_or(0, |l| l.span.start));
            return Err(diags);
        }
        Ok(ServerFile {
            source,
            server: server.unwrap_or(ServerSettings {
                workers: 2,
                ..ServerSettings::default()
            }),
            forges,
            repos,
        })
    }

    /// The forge block called `name`.
    pub fn forge(&self, name: &str) -> Option<&ForgeDecl> {
        self.forges.iter().find(|f| f.name.value == name)
    }

    /// The repo block for `owner/name`, compared case-insensitively as forges do.
    pub fn repo(&self, name: &str) -> Option<&RepoDecl> {
        self.repos
            .iter()
            .find(|r| r.name.value.eq_ignore_ascii_case(name))
    }

    /// Every environment variable the file names, with the span naming it, so that the
    /// server can refuse to start naming the one that is unset.
    pub fn required_env(&self) -> Vec<(&str, Range<usize>)> {
        let mut out = Vec::new();
        for forge in &self.forges {
            out.push((
                forge.webhook_secret_env.value.as_str(),
                forge.webhook_secret_env.span.clone(),
            ));
            if let ForgeAuth::Token { env } = &forge.auth {
                out.push((env.value.as_str(), env.span.clone()));
            }
        }
        out
    }
}

fn parse_server(
    block: &hcl_edit::structure::Block,
    source: &Arc<SourceFile>,
    span: Range<usize>,
    diags: &mut Vec<Diagnostic>,
) -> ServerSettings {
    let r = Reader::new(
        &block.body,
        source,
        "the `server` block",
        span,
        &["public_url", "data_dir", "workers"],
        &[],
        diags,
    );
    let public_url = r.string("public_url", diags);
    if let Some(u) = &public_url
        && !(u.value.starts_with("http://") || u.value.starts_with("https://"))
    {
        diags.push(Diagnostic::error("`public_url` is not a URL").at(
            source,
            u.span.clone(),
            "expected https://HOST",
        ));
    }
    let workers = match r.count("workers", diags) {
        Some(w) if w.value == 0 || w.value > 64 => {
            diags.push(Diagnostic::error("`workers` must be 1 to 64").at(
                source,
                w.span,
                "jobs this replica runs at once",
            ));
            2
        }
        Some(w) => w.value as usize,
        None => 2,
    };
    ServerSettings {
        public_url: public_url.map(|u| u.value.trim_end_matches('/').to_string()),
        data_dir: r.string("data_dir", diags).map(|d| d.value),
        workers,
    }
}

fn parse_forge(
    block: &hcl_edit::structure::Block,
    source: &Arc<SourceFile>,
    span: Range<usize>,
    diags: &mut Vec<Diagnostic>,
) -> Option<ForgeDecl> {
    let name = one_label(block, source, "forge", diags)?;
    let what = format!("forge `{}`", name.value);
    let r = Reader::new(
        &block.body,
        source,
        &what,
        span,
        &[
            "type",
            "api_url",
            "token_env",
            "app_id",
            "private_key_file",
            "webhook_secret_env",
        ],
        &[],
        diags,
    );
    let kind_text = r.string("type", diags);
    let kind_text = r.require("type", kind_text, diags)?;
    let kind = match kind_text.value.as_str() {
        "github" => ForgeKind::GitHub,
        "gitlab" => ForgeKind::GitLab,
        "gitea" | "forgejo" => ForgeKind::Gitea,
        other => {
            diags.push(
                Diagnostic::error(format!("unknown forge type `{other}`")).at(
                    source,
                    kind_text.span,
                    "expected github, gitlab or gitea",
                ),
            );
            return None;
        }
    };
    let api_url = r
        .string("api_url", diags)
        .map_or_else(|| kind.default_api_url().to_string(), |u| u.value);
    let token_env = r.string("token_env", diags);
    let app_id = r.count("app_id", diags);
    let key_file = r.string("private_key_file", diags);
    let auth = match (token_env, app_id, key_file) {
        (Some(env), None, None) => ForgeAuth::Token { env },
        (None, Some(id), Some(key)) => {
            if kind != ForgeKind::GitHub {
                diags.push(
                    Diagnostic::error(format!("{what}: GitHub Apps exist only on GitHub")).at(
                        source,
                        r.attr_span("app_id").unwrap_or(id.span),
                        "use `token_env` for this forge",
                    ),
                );
                return None;
            }
            ForgeAuth::GitHubApp {
                app_id: id.value,
                private_key_file: key,
            }
        }
        (None, None, None) => {
            diags.push(
                Diagnostic::error(format!("{what} needs API credentials"))
                    .at(source, header_span(block), "no `token_env`")
                    .with_help(
                        "name the variable holding a token: `token_env = \"GITHUB_TOKEN\"` \
                         (GitHub Apps: `app_id` and `private_key_file`)",
                    ),
            );
            return None;
        }
        _ => {
            diags.push(
                Diagnostic::error(format!(
                    "{what}: give either `token_env`, or `app_id` with `private_key_file`"
                ))
                .at(
                    source,
                    header_span(block),
                    "mixed or incomplete credentials",
                ),
            );
            return None;
        }
    };
    let secret = r.string("webhook_secret_env", diags);
    let Some(webhook_secret_env) = secret else {
        diags.push(
            Diagnostic::error(format!("{what} needs `webhook_secret_env`"))
                .at(source, header_span(block), "no webhook secret")
                .with_help(
                    "webhooks are verified with a shared secret; name the variable holding it: \
                     `webhook_secret_env = \"PLINTH_WEBHOOK_SECRET\"`",
                ),
        );
        return None;
    };
    Some(ForgeDecl {
        name,
        kind,
        api_url: api_url.trim_end_matches('/').to_string(),
        auth,
        webhook_secret_env,
    })
}

fn parse_repo(
    block: &hcl_edit::structure::Block,
    source: &Arc<SourceFile>,
    span: Range<usize>,
    diags: &mut Vec<Diagnostic>,
) -> Option<RepoDecl> {
    let name = one_label(block, source, "repo", diags)?;
    if !name.value.contains('/') || name.value.starts_with('/') || name.value.ends_with('/') {
        diags.push(
            Diagnostic::error(format!("repo `{}` is not `owner/name`", name.value)).at(
                source,
                name.span.clone(),
                "write the repository's full name, e.g. `acme/infra`",
            ),
        );
    }
    let what = format!("repo `{}`", name.value);
    let r = Reader::new(
        &block.body,
        source,
        &what,
        span,
        &[
            "forge",
            "clone_url",
            "appliers",
            "project_dir",
            "default_branch",
        ],
        &[],
        diags,
    );
    let forge = r.string("forge", diags);
    let forge = r.require("forge", forge, diags)?;
    let project_dir = r
        .string("project_dir", diags)
        .map_or_else(|| ".".to_string(), |d| d.value);
    if project_dir.starts_with('/') || project_dir.split('/').any(|c| c == "..") {
        diags.push(
            Diagnostic::error(format!("`project_dir` of {what} leaves the repository")).at(
                source,
                r.attr_span("project_dir").unwrap_or(0..0),
                "use a path relative to the repository root",
            ),
        );
    }
    let default_branch = r.string("default_branch", diags);
    if let Some(b) = &default_branch
        && !is_branch_name(&b.value)
    {
        diags.push(
            Diagnostic::error(format!("`default_branch` of {what} is not a branch name")).at(
                source,
                b.span.clone(),
                "write the branch as the forge shows it, e.g. `main` or `release/2026`",
            ),
        );
    }
    Some(RepoDecl {
        name,
        forge,
        clone_url: r.string("clone_url", diags).map(|u| u.value),
        appliers: r
            .string_list("appliers", diags)
            .map(|l| l.value.into_iter().map(|a| a.value).collect()),
        project_dir,
        default_branch: default_branch.map_or_else(|| "main".to_string(), |b| b.value),
    })
}

/// What git accepts as a branch name and no git command can read as an option (the rules
/// of `git check-ref-format --branch`, minus the rare ones no forge lets a branch have).
fn is_branch_name(name: &str) -> bool {
    let name = name.strip_prefix("refs/heads/").unwrap_or(name);
    !name.is_empty()
        && !name.starts_with(['-', '/', '.'])
        && !name.ends_with(['/', '.'])
        && !name.ends_with(".lock")
        && !name.contains("..")
        && !name.contains("//")
        && !name.contains("@{")
        && !name
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || "~^:?*[\\".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
server {
  public_url = "https://plinth.example.com/"
  data_dir   = "/var/lib/plinth"
  workers    = 3
}

forge "gh" {
  type               = "github"
  token_env          = "GITHUB_TOKEN"
  webhook_secret_env = "PLINTH_WEBHOOK_SECRET"
}

forge "lab" {
  type               = "gitlab"
  api_url            = "https://gitlab.example.com/api/v4"
  token_env          = "GITLAB_TOKEN"
  webhook_secret_env = "GITLAB_HOOK_TOKEN"
}

repo "acme/infra" {
  forge    = "gh"
  appliers = ["platform-lead"]
}
"#;

    #[test]
    fn parses_the_design_example() {
        let f = ServerFile::parse("plinth-server.hcl", GOOD).unwrap();
        assert_eq!(
            f.server.public_url.as_deref(),
            Some("https://plinth.example.com")
        );
        assert_eq!(f.server.workers, 3);
        assert_eq!(f.forges[0].api_url, "https://api.github.com");
        assert_eq!(f.forges[1].kind, ForgeKind::GitLab);
        assert_eq!(f.repo("ACME/infra").unwrap().forge.value, "gh");
        let env: Vec<&str> = f.required_env().iter().map(|(n, _)| *n).collect();
        assert_eq!(
            env,
            [
                "PLINTH_WEBHOOK_SECRET",
                "GITHUB_TOKEN",
                "GITLAB_HOOK_TOKEN",
                "GITLAB_TOKEN"
            ]
        );
    }

    fn errors(text: &str) -> Vec<String> {
        ServerFile::parse("s.hcl", text)
            .unwrap_err()
            .iter()
            .map(|d| format!("{} {}", d.one_line(), d.help.join(" ")))
            .collect()
    }

    #[test]
    fn a_forge_without_webhook_secret_is_refused_at_its_block() {
        let errs = errors("forge \"gh\" {\n  type = \"github\"\n  token_env = \"T\"\n}\n");
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0].starts_with("s.hcl:1:1: forge `gh` needs `webhook_secret_env`"),
            "{errs:?}"
        );
    }

    #[test]
    fn default_branch_defaults_to_main_and_is_checked() {
        let f = ServerFile::parse("plinth-server.hcl", GOOD).unwrap();
        assert_eq!(f.repos[0].default_branch, "main");
        let forge = "forge \"gh\" {\n  type = \"github\"\n  token_env = \"T\"\n  webhook_secret_env = \"S\"\n}\n";
        let f = ServerFile::parse(
            "s.hcl",
            &format!(
                "{forge}repo \"a/b\" {{\n  forge = \"gh\"\n  default_branch = \"trunk\"\n}}\n"
            ),
        )
        .unwrap();
        assert_eq!(f.repos[0].default_branch, "trunk");
        let errs = errors(&format!(
            "{forge}repo \"a/b\" {{\n  forge = \"gh\"\n  default_branch = \"--upload-pack=x\"\n}}\n"
        ));
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0].starts_with("s.hcl:8:20: `default_branch` of repo `a/b` is not a branch name"),
            "{errs:?}"
        );
    }

    #[test]
    fn unknown_forge_of_a_repo_suggests() {
        let errs = errors(
            "forge \"github\" {\n  type = \"github\"\n  token_env = \"T\"\n  webhook_secret_env = \"S\"\n}\nrepo \"a/b\" {\n  forge = \"gihub\"\n}\n",
        );
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].contains("unknown forge `gihub`"), "{errs:?}");
        assert!(errs[0].contains("did you mean `github`"), "{errs:?}");
    }
}
