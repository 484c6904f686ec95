//! What a forge answered for one `repo` block, as a finding with the forge's status and a fix
//! in that forge's terms (which token to create, where an App is installed).

use std::time::Duration;

use plinth_config::{ForgeAuth, ForgeDecl, ForgeKind};
use plinth_forge::{ForgeError, Permission, RepoAccess};

use super::Finding;

/// One repository's outcome.
pub(super) enum Answer {
    /// The repository was read.
    Access(RepoAccess),
    /// The forge refused, or could not be reached.
    Error(ForgeError),
    /// No answer within the deadline.
    TimedOut(Duration),
    /// Its forge's credentials could not be read, so nothing was asked.
    NoCredentials,
    /// The check itself failed (a panic in its task).
    Crashed,
}

/// The finding for `repo` on the forge `decl`.
pub(super) fn finding(decl: &ForgeDecl, repo: &str, answer: &Answer) -> Finding {
    let what = format!("forge {}", decl.name.value);
    let what = what.as_str();
    match answer {
        Answer::Access(access) => access_finding(decl, what, repo, access),
        Answer::Error(e) => error_finding(decl, what, repo, e),
        Answer::TimedOut(limit) => Finding::fail(
            what,
            format!(
                "{repo}: no answer from {} within {} s",
                decl.api_url,
                limit.as_secs()
            ),
            "check `api_url` and the network between this host and the forge",
        ),
        Answer::NoCredentials => Finding::skipped(
            what,
            format!("{repo} not checked: the forge's credentials are missing"),
        ),
        Answer::Crashed => {
            Finding::fail(what, format!("{repo}: the check did not finish"), "retry")
        }
    }
}

fn access_finding(decl: &ForgeDecl, what: &str, repo: &str, access: &RepoAccess) -> Finding {
    let branch = access
        .default_branch
        .as_deref()
        .map(|b| format!(", default branch {b}"))
        .unwrap_or_default();
    match (access.can_push(), &decl.auth) {
        (Some(true), _) => Finding::ok(what, format!("{repo} readable (push: yes{branch})")),
        (None, ForgeAuth::GitHubApp { app_id, .. }) => Finding::ok(
            what,
            format!(
                "{repo} readable through GitHub App {app_id}'s installation (push: the App's \
                 permissions apply{branch})"
            ),
        ),
        (None, _) => Finding::ok(
            what,
            format!("{repo} readable (push: not reported{branch})"),
        ),
        (Some(false), _) => Finding::fail(
            what,
            format!(
                "{repo} readable, but {} cannot push ({})",
                credential_name(decl),
                match access.permission {
                    Some(Permission::Read) => "read access only",
                    _ => "no access",
                }
            ),
            format!(
                "{}: plinth sets commit statuses, which needs it",
                grant_write(decl.kind)
            ),
        ),
    }
}

fn error_finding(decl: &ForgeDecl, what: &str, repo: &str, e: &ForgeError) -> Finding {
    let app_id = match &decl.auth {
        ForgeAuth::GitHubApp { app_id, .. } => Some(*app_id),
        ForgeAuth::Token { .. } => None,
    };
    match e {
        ForgeError::Status {
            request,
            status,
            message,
        } => {
            let said = format!("{status} {message}").trim().to_string();
            // An App's own calls come first: the installation, then its token.
            let app_call =
                request.ends_with("/installation") || request.ends_with("/access_tokens");
            match (app_id, app_call, *status) {
                (Some(id), true, 401) => Finding::fail(
                    what,
                    format!("{repo}: GitHub refused GitHub App {id}'s JWT ({said})"),
                    "check `app_id` and that private_key_file holds the App's current private key",
                ),
                (Some(id), true, 404) => Finding::fail(
                    what,
                    format!("{repo}: GitHub App {id} is not installed on it ({said})"),
                    format!(
                        "install the App on {repo} (or give its installation access to the \
                         repository)"
                    ),
                ),
                (_, _, 401) => Finding::fail(
                    what,
                    format!("{repo}: {} was refused ({said})", credential_name(decl)),
                    token_hint(decl),
                ),
                (_, _, 404) => Finding::fail(
                    what,
                    format!("{repo} not found or not visible to the token ({said})"),
                    format!(
                        "check the repo block's name ({}) and give the token access to it",
                        match decl.kind {
                            ForgeKind::GitLab => "the project's full path, group/…/project",
                            _ => "owner/name",
                        }
                    ),
                ),
                (_, _, 403) => Finding::fail(
                    what,
                    format!("{repo}: access refused ({said})"),
                    "the token lacks a scope, or the organisation's SAML SSO has not \
                     authorised it: grant it access to the repository",
                ),
                _ => Finding::fail(
                    what,
                    format!("{repo}: {} answered {said}", decl.api_url),
                    "check `api_url` and the forge's health, then retry",
                ),
            }
        }
        ForgeError::RateLimited { .. } => Finding::fail(
            what,
            format!("{repo}: rate limited by the forge"),
            "retry once the forge's rate limit resets",
        ),
        ForgeError::Transport { detail, .. } => Finding::fail(
            what,
            format!("{repo}: cannot reach {}: {detail}", decl.api_url),
            "check `api_url`, the network, and PLINTH_CA_FILE for a private CA",
        ),
        ForgeError::Decode { detail, .. } => Finding::fail(
            what,
            format!(
                "{repo}: {} did not answer like the {} API ({detail})",
                decl.api_url,
                decl.kind.as_str()
            ),
            "point `api_url` at the API root (GitHub Enterprise https://HOST/api/v3, GitLab \
             …/api/v4, Gitea …/api/v1)",
        ),
        ForgeError::Invalid(message) => Finding::fail(
            what,
            message.clone(),
            "write the repo block's label as owner/name (GitLab: group/…/project)",
        ),
        ForgeError::Setup(message) => {
            Finding::fail(what, message.clone(), "correct the forge block")
        }
    }
}

/// What the credentials are called in a message: the variable, or the App.
fn credential_name(decl: &ForgeDecl) -> String {
    match &decl.auth {
        ForgeAuth::Token { env } => env.value.clone(),
        ForgeAuth::GitHubApp { app_id, .. } => format!("GitHub App {app_id}"),
    }
}

/// Which token to create, in the forge's own terms.
fn token_hint(decl: &ForgeDecl) -> String {
    let var = credential_name(decl);
    match decl.kind {
        ForgeKind::GitHub => format!(
            "create a token with repo scope (fine-grained: Contents read, and Pull requests, \
             Commit statuses and Issues read and write, on the repository) and export it as {var}"
        ),
        ForgeKind::GitLab => format!(
            "create a personal, project or group access token with api scope and export it as \
             {var}"
        ),
        ForgeKind::Gitea => format!(
            "create an access token with read and write scope on repositories and issues and \
             export it as {var}"
        ),
    }
}

/// How to give the credentials push access, in the forge's own terms.
fn grant_write(kind: ForgeKind) -> &'static str {
    match kind {
        ForgeKind::GitHub => "give the token write access to the repository",
        ForgeKind::GitLab => "give the token's user the Developer role or higher on the project",
        ForgeKind::Gitea => "give the token's user write access to the repository",
    }
}
