//! With `--server-config FILE`: each `forge` block's credentials and webhook secret, read from
//! the variables it names (never printed), then each `repo` block's repository read through
//! its forge's API with them — every repository at once, each call bounded by a short timeout,
//! so that a forge that does not answer costs seconds, not minutes.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use plinth_config::{ForgeAuth, ForgeDecl, ServerFile};
use plinth_forge::{
    ClientConfig, Credentials, CredentialsError, Forge, RetryPolicy, client_for,
    webhook_secret_from_env,
};

use super::forge_answer::{self, Answer};
use super::{Doctor, Finding};

/// One HTTP request's limit.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// Connecting's limit.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// One repository's limit: a GitHub App makes up to three calls (installation, token, repo).
const REPO_DEADLINE: Duration = Duration::from_secs(12);

/// The forge and repository findings, each forge followed by its repositories.
pub(super) fn check(d: &Doctor) -> Vec<Finding> {
    let Some(server) = &d.server else {
        return Vec::new();
    };
    let file = &server.file;
    let config = client_config();
    let forges: Vec<ForgeCheck> = file
        .forges
        .iter()
        .map(|decl| read_forge(file, decl, &server.base_dir, &config))
        .collect();
    let answers = match d.block_on(reach_all(file, &forges)) {
        Ok(answers) => answers,
        Err(e) => return vec![Finding::fail("forges", e, "retry")],
    };
    let mut out = Vec::new();
    for forge in &forges {
        out.push(forge.finding.clone());
        for (repo, answer) in file.repos.iter().zip(&answers) {
            if repo.forge.value == forge.decl.name.value {
                out.push(forge_answer::finding(forge.decl, &repo.name.value, answer));
            }
        }
    }
    // The clients already keep tokens out of their errors; this holds even if a forge or a
    // proxy echoed one back in words plinth did not expect.
    let secrets: Vec<&String> = forges.iter().flat_map(|f| &f.secrets).collect();
    for finding in &mut out {
        for secret in &secrets {
            finding.detail = finding.detail.replace(secret.as_str(), "[redacted]");
            if let Some(fix) = &mut finding.fix {
                *fix = fix.replace(secret.as_str(), "[redacted]");
            }
        }
    }
    out
}

/// Short timeouts and no retries: doctor reports what the forge says now.
fn client_config() -> ClientConfig {
    ClientConfig {
        http: plinth_http::ClientOptions {
            timeout: CALL_TIMEOUT,
            connect_timeout: CONNECT_TIMEOUT,
            ca_file: None,
        },
        retry: RetryPolicy {
            max_retries: 0,
            base_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
            max_total_wait: Duration::ZERO,
        },
    }
}

/// A forge block after reading its credentials.
struct ForgeCheck<'a> {
    decl: &'a ForgeDecl,
    finding: Finding,
    /// Built when the credentials were read, even if the webhook secret was not.
    client: Option<Arc<dyn Forge>>,
    /// The values read, kept only to scrub them from the report.
    secrets: Vec<String>,
}

fn read_forge<'a>(
    file: &ServerFile,
    decl: &'a ForgeDecl,
    base_dir: &Path,
    config: &ClientConfig,
) -> ForgeCheck<'a> {
    let what = format!("forge {}", decl.name.value);
    let mut secrets = Vec::new();
    let mut unset: Vec<&str> = Vec::new();
    let credentials = match Credentials::from_env(&key_file_from(decl, base_dir)) {
        Ok(c) => {
            if let Credentials::Token(token) = &c {
                secrets.push(token.clone());
            }
            Some(c)
        }
        Err(CredentialsError::Unset { .. }) => {
            if let ForgeAuth::Token { env } = &decl.auth {
                unset.push(&env.value);
            }
            None
        }
        Err(CredentialsError::KeyFile { path, detail, .. }) => {
            return ForgeCheck {
                decl,
                finding: Finding::fail(
                    &what,
                    format!("cannot read the GitHub App's private key {path}: {detail}"),
                    "point private_key_file at the App's PEM key (a relative path starts at \
                     the server file's directory)",
                ),
                client: None,
                secrets,
            };
        }
    };
    match webhook_secret_from_env(decl) {
        Ok(secret) => secrets.push(secret),
        Err(_) => unset.push(&decl.webhook_secret_env.value),
    }
    let client = match credentials.map(|c| client_for(decl, c, config)) {
        Some(Ok(client)) => Some(client),
        Some(Err(e)) => {
            return ForgeCheck {
                decl,
                finding: Finding::fail(
                    &what,
                    e.to_string(),
                    "correct the forge block (`api_url`, and for an App the RSA key in \
                     private_key_file)",
                ),
                client: None,
                secrets,
            };
        }
        None => None,
    };
    let finding = if unset.is_empty() {
        let used = file.repos.iter().any(|r| r.forge.value == decl.name.value);
        Finding::ok(
            &what,
            format!(
                "{} API {}; {}; webhook secret {} set{}",
                decl.kind.as_str(),
                decl.api_url,
                credentials_source(decl),
                decl.webhook_secret_env.value,
                if used {
                    ""
                } else {
                    "; no repo block uses it, so its API was not reached"
                }
            ),
        )
    } else {
        let (list, verb, them) = match unset.as_slice() {
            [one] => (one.to_string(), "is", "it"),
            many => (many.join(" and "), "are", "them"),
        };
        Finding::fail(
            &what,
            format!("{list} {verb} unset or empty"),
            format!(
                "export {them} where `plinth serve` runs (the server refuses to start without \
                 {them}; plinth never prints the values)"
            ),
        )
    };
    ForgeCheck {
        decl,
        finding,
        client,
        secrets,
    }
}

/// `token from GITHUB_TOKEN`, or the App and its key file.
fn credentials_source(decl: &ForgeDecl) -> String {
    match &decl.auth {
        ForgeAuth::Token { env } => format!("token from {}", env.value),
        ForgeAuth::GitHubApp {
            app_id,
            private_key_file,
        } => format!("GitHub App {app_id} with key {}", private_key_file.value),
    }
}

/// The block with its App key file taken from the server file's directory, as the server
/// reads it.
fn key_file_from(decl: &ForgeDecl, base_dir: &Path) -> ForgeDecl {
    let mut decl = decl.clone();
    if let ForgeAuth::GitHubApp {
        private_key_file, ..
    } = &mut decl.auth
    {
        private_key_file.value = base_dir.join(&private_key_file.value).display().to_string();
    }
    decl
}

/// Every repository's answer, in file order, all asked at once.
async fn reach_all(file: &ServerFile, forges: &[ForgeCheck<'_>]) -> Vec<Answer> {
    let mut tasks = tokio::task::JoinSet::new();
    let mut answers: Vec<Option<Answer>> = Vec::new();
    for (index, repo) in file.repos.iter().enumerate() {
        answers.push(None);
        let client = forges
            .iter()
            .find(|f| f.decl.name.value == repo.forge.value)
            .and_then(|f| f.client.clone());
        let Some(client) = client else {
            answers[index] = Some(Answer::NoCredentials);
            continue;
        };
        let name = repo.name.value.clone();
        tasks.spawn(async move {
            let answer =
                match tokio::time::timeout(REPO_DEADLINE, client.repository_access(&name)).await {
                    Ok(Ok(access)) => Answer::Access(access),
                    Ok(Err(e)) => Answer::Error(e),
                    Err(_) => Answer::TimedOut(REPO_DEADLINE),
                };
            (index, answer)
        });
    }
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok((index, answer)) => answers[index] = Some(answer),
            Err(e) => tracing::warn!("a forge check did not finish: {e}"),
        }
    }
    answers
        .into_iter()
        .map(|a| a.unwrap_or(Answer::Crashed))
        .collect()
}
