//! What the working copies hand to git, checked before any command runs: commit ids (they
//! become directory names), refs (a leading `-` would be read as an option) and clone URLs
//! (credentials in one would end up in git's messages).

use crate::git::scrub;
use crate::workspace::WorkspaceError;

/// `acme/infra` → `acme+infra`: repository names are `[A-Za-z0-9._-]` segments, so `+` keeps
/// the mapping one-to-one; lower case because forges compare names without case.
pub(crate) fn slug(repo: &str) -> String {
    repo.to_ascii_lowercase().replace('/', "+")
}

pub(crate) fn commit_id(sha: &str) -> Result<String, WorkspaceError> {
    let ok = matches!(sha.len(), 40 | 64) && sha.bytes().all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(sha.to_ascii_lowercase())
    } else {
        Err(WorkspaceError::BadCommit(sha.to_string()))
    }
}

/// `main` → `refs/heads/main`; full refs as given. Refused: anything git would read as an
/// option, or that `git check-ref-format` forbids.
pub(crate) fn full_refs(refs: &[&str]) -> Result<Vec<String>, WorkspaceError> {
    refs.iter()
        .map(|r| {
            let bad = r.is_empty()
                || r.starts_with(['-', '/'])
                || r.ends_with(['/', '.'])
                || r.ends_with(".lock")
                || r.contains("..")
                || r.contains("@{")
                || r.contains("//")
                || r.chars()
                    .any(|c| c.is_control() || c.is_whitespace() || "~^:?*[\\".contains(c));
            if bad {
                return Err(WorkspaceError::BadRef(r.to_string()));
            }
            Ok(if r.starts_with("refs/") {
                r.to_string()
            } else {
                format!("refs/heads/{r}")
            })
        })
        .collect()
}

/// A clone URL must not carry credentials (HTTP userinfo: a token as user or password) nor
/// look like an option.
pub(crate) fn check_clone_url(repo: &str, url: &str) -> Result<(), WorkspaceError> {
    if url.is_empty() || url.starts_with('-') {
        return Err(WorkspaceError::BadRef(url.to_string()));
    }
    let lower = url.to_ascii_lowercase();
    if (lower.starts_with("http://") || lower.starts_with("https://"))
        && let Some(rest) = url.split_once("://").map(|(_, r)| r)
        && rest
            .split('/')
            .next()
            .is_some_and(|host| host.contains('@'))
    {
        return Err(WorkspaceError::CredentialsInUrl {
            repo: repo.to_string(),
            url: scrub(url, None),
        });
    }
    Ok(())
}
